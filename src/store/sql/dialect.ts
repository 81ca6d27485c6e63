// Everything in which carebridge's SQL differs between SQLite and Postgres, in one place. The
// stores write their SQL once, with `?` placeholders, and splice in these fragments where the two
// engines disagree. Times are epoch-millisecond integers on both, so no fragment deals with them.

/** Column types of a bulk write; Postgres casts its unnest() arrays to them, SQLite ignores them. */
export type ColumnType = 'text' | 'bigint' | 'int' | 'boolean' | 'bytea';

export interface Dialect {
  readonly kind: 'sqlite' | 'postgres';
  /** `column` is one of the values of one array parameter. */
  inList(column: string, type: 'text' | 'bigint'): string;
  /** Row locks of a SELECT in a write transaction (SQLite has one writer: nothing to lock). */
  readonly forUpdate: string;
  /** Row locks taken in `column` order, the same in every transaction (no deadlock); nothing on SQLite, not even the sort. */
  lockedInOrder(column: string): string;
  /** Row locks that skip rows another transaction holds (prune runs beside live traffic). */
  skipLocked(alias: string): string;
  /** Literals of a boolean column (SQLite stores 0/1; its partial indexes say `= 1` / `= 0`). */
  readonly TRUE: string;
  readonly FALSE: string;
  /** Substring test: `needle` occurs in `haystack`. */
  contains(haystack: string, needle: string): string;
  /**
   * Transaction-scoped locks on a text-array parameter of keys, taken in the array's order; null
   * where writers are serialized anyway (SQLite).
   */
  readonly keyLocks: string | null;
  /** A derived table `alias(columns...)` from one parameter holding a JSON array of objects. */
  jsonRows(alias: string, columns: Record<string, 'text'>): string;
}

export const sqliteDialect: Dialect = {
  kind: 'sqlite',
  // Lists go in as one JSON parameter, so a lookup of 1,000 keys is one statement.
  inList: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  forUpdate: '',
  lockedInOrder: () => '',
  skipLocked: () => '',
  TRUE: '1',
  FALSE: '0',
  contains: (haystack, needle) => `instr(${haystack}, ${needle}) > 0`,
  keyLocks: null,
  jsonRows: (alias, columns) =>
    `(SELECT ${Object.keys(columns)
      .map((c) => `value ->> '${c}' AS ${c}`)
      .join(', ')} FROM json_each(?)) AS ${alias}`,
};

export const postgresDialect: Dialect = {
  kind: 'postgres',
  inList: (column, type) => `${column} = ANY(?::${type}[])`,
  forUpdate: ' FOR UPDATE',
  lockedInOrder: (column) => ` ORDER BY ${column} FOR UPDATE`,
  skipLocked: (alias) => ` FOR UPDATE OF ${alias} SKIP LOCKED`,
  TRUE: 'true',
  FALSE: 'false',
  contains: (haystack, needle) => `strpos(${haystack}, ${needle}) > 0`,
  keyLocks: 'SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) AS n FROM unnest(?::text[]) AS k',
  jsonRows: (alias, columns) =>
    `json_to_recordset(?::json) AS ${alias}(${Object.entries(columns)
      .map(([c, t]) => `${c} ${t}`)
      .join(', ')})`,
};

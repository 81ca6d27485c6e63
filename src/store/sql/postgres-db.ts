import pg from 'pg';
import { StoreError } from '../errors.js';
import { openPool, type PoolOpenOptions } from '../open-database.js';
import { postgresDialect } from './dialect.js';
import { ROW_REF, RetryTransaction, rowRefs, type Op, type Row, type SqlDb, type TransactionRetryReason, type Tx } from './sql-db.js';

const MAX_TX_ATTEMPTS = 5;
const BEGIN = 'BEGIN';
/** SET LOCAL ends with the transaction: pooled connections keep the default for everything else. */
const BEGIN_RELAXED = 'BEGIN; SET LOCAL synchronous_commit = off';
const BEGIN_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/** deadlock_detected, serialization_failure, or a body's conflict: safe to rerun, everything rolled back. */
function retryReason(err: unknown): TransactionRetryReason | null {
  if (err instanceof RetryTransaction) return 'conflict';
  const code = (err as { code?: unknown } | null)?.code;
  if (code === '40P01') return 'deadlock';
  if (code === '40001') return 'serialization';
  return null;
}

// `?` -> `$n`. The layer's SQL never has a `?` inside a literal.
const numbered = new Map<string, string>();
function toPg(sql: string): string {
  let out = numbered.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, out);
  }
  return out;
}

function unnest(names: readonly string[], types: readonly string[], alias: (n: string) => string, first = 1): string {
  return `unnest(${names.map((_, i) => `$${first + i}::${types[i]}[]`).join(', ')}) WITH ORDINALITY AS v(${names.map(alias).join(', ')}, ord__)`;
}

/** The statement and parameters of one op as Postgres runs it: bulk writes become one set-based statement. */
function statement(op: Op): [string, unknown[]] {
  switch (op.kind) {
    case 'all':
    case 'run':
      return [toPg(op.sql), [...op.params]];
    case 'insert': {
      const names = Object.keys(op.columns);
      const source = unnest(names, Object.values(op.columns), (n) => n);
      const tail = op.insertedKey === undefined ? op.tail : `${op.tail} RETURNING ${op.insertedKey}`;
      const sql = `INSERT INTO ${op.table} (${names.join(', ')}) SELECT ${names.map((n) => `v.${n}`).join(', ')} FROM ${source} ORDER BY v.ord__ ${tail}`;
      return [sql, names.map((n) => op.rows.map((r) => r[n] ?? null))];
    }
    case 'update': {
      // The values are v.v_<name>, so no table column of the same name makes a reference ambiguous.
      const names = [...new Set(rowRefs(`${op.update} ${op.where}`))];
      const source = unnest(
        names,
        names.map((n) => op.columns[n]),
        (n) => `v_${n}`,
      );
      const sql = `${op.update.replace(ROW_REF, 'v.v_$1')} FROM ${source} WHERE ${op.where.replace(ROW_REF, 'v.v_$1')}`;
      return [sql, names.map((n) => op.rows.map((r) => r[n] ?? null))];
    }
  }
}

async function execute(client: pg.Pool | pg.PoolClient, op: Op): Promise<unknown> {
  const [sql, params] = statement(op);
  const result = await client.query(sql, params);
  return op.kind === 'run' || op.kind === 'update' ? (result.rowCount ?? 0) : ((result.rows ?? []) as Row[]);
}

async function drive<T>(client: pg.PoolClient, gen: Tx<T>): Promise<T> {
  let step = gen.next();
  while (!step.done) {
    let result: unknown;
    try {
      result = await execute(client, step.value);
    } catch (err) {
      step = gen.throw(err);
      continue;
    }
    step = gen.next(result);
  }
  return step.value;
}

export interface PostgresDbOptions extends PoolOpenOptions {
  /** Called each time a transaction is rolled back and rerun; retries are otherwise invisible. */
  onTransactionRetry?: (reason: TransactionRetryReason) => void;
}

/** A pg pool (migrated by `migrate` first) serving the SQL layer. BIGINT columns come back as numbers. */
export async function openPostgresDb(
  connectionString: string,
  options: PostgresDbOptions,
  migrate: (pool: pg.Pool) => Promise<unknown>,
): Promise<SqlDb> {
  const pool = await openPool(connectionString, options, migrate);
  const onRetry = options.onTransactionRetry ?? (() => {});
  let closed = false;

  async function transaction<T>(fn: (client: pg.PoolClient) => Promise<T>, begin: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query(begin);
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          // A connection that cannot roll back is not returned to the pool for reuse.
          broken = true;
        });
        const reason = retryReason(err);
        if (attempt < MAX_TX_ATTEMPTS && reason !== null) {
          onRetry(reason);
          continue;
        }
        if (err instanceof RetryTransaction) throw new StoreError('store transaction kept conflicting; try again');
        throw err;
      } finally {
        client.release(broken);
      }
    }
  }

  return {
    dialect: postgresDialect,
    blocksEventLoop: false,
    write: (body, opts = {}) => transaction((c) => drive(c, body()), opts.relaxed ? BEGIN_RELAXED : BEGIN),
    read: (body) => transaction((c) => drive(c, body()), BEGIN_SNAPSHOT),
    query: async (sql, params = []) => (await pool.query(toPg(sql), [...params])).rows as Row[],
    exec: async (sql, params = []) => (await pool.query(toPg(sql), [...params])).rowCount ?? 0,
    async withSessionLock(lockClass, key, fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [lockClass, key]);
        try {
          return await fn();
        } finally {
          await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [lockClass, key]).catch(() => {
            // Dropping the connection releases the lock.
            broken = true;
          });
        }
      } finally {
        client.release(broken);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

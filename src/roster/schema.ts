import { migrationsFor, timesToEpochMs, type DialectMigration, type Migration } from '../store/migration.js';

// Roster tables, written once for both engines and versioned in roster_schema_migrations (not the
// message store's schema_migrations: the roster migrates on its own). Calendar dates are
// YYYY-MM-DD text on both (`COLLATE "C"` on Postgres, so both compare them bytewise and pg never
// turns them into time-zone-shifted Dates). Times are epoch-ms integers on both since version 5
// (Postgres had TIMESTAMPTZ before).

interface Types {
  time: string;
  date: string;
  noRowid: string;
  /** An integer key; `serial` never reuses a value (SQLite AUTOINCREMENT). */
  rowid: string;
  serial: string;
  ref: string;
  flag: string;
  no: string;
  not: (column: string) => string;
}

const SQLITE: Types = {
  time: 'INTEGER',
  date: 'TEXT',
  noRowid: ' WITHOUT ROWID',
  rowid: 'INTEGER PRIMARY KEY',
  serial: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  ref: 'INTEGER',
  flag: 'INTEGER',
  no: '0',
  not: (c) => `${c} = 0`,
};

const POSTGRES: Types = {
  time: 'TIMESTAMPTZ',
  date: 'TEXT COLLATE "C"',
  noRowid: '',
  rowid: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  serial: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  ref: 'BIGINT',
  flag: 'BOOLEAN',
  no: 'false',
  not: (c) => `NOT ${c}`,
};

const initial = (t: Types): string => `
CREATE TABLE roster_members (
  member_id  TEXT PRIMARY KEY,
  status     TEXT NOT NULL CHECK (status IN ('active','terminated')),
  family     TEXT,
  given      TEXT,
  birth_date ${t.date},
  sex        TEXT,
  address    TEXT,
  phone      TEXT,
  match_key  TEXT,
  created_at ${t.time} NOT NULL,
  updated_at ${t.time} NOT NULL
);
CREATE INDEX roster_members_match ON roster_members (match_key) WHERE match_key IS NOT NULL;

CREATE TABLE roster_identifiers (
  system    TEXT NOT NULL,
  value     TEXT NOT NULL,
  type      TEXT,
  member_id TEXT NOT NULL REFERENCES roster_members(member_id) ON DELETE CASCADE,
  PRIMARY KEY (system, value)
)${t.noRowid};
CREATE INDEX roster_identifiers_member ON roster_identifiers (member_id);
-- The systems in use: a lookup by value alone probes each (system, value) key instead of keeping
-- a third index over millions of identifiers.
CREATE TABLE roster_identifier_systems (system TEXT PRIMARY KEY)${t.noRowid};

CREATE TABLE roster_imports (
  id            TEXT PRIMARY KEY,
  partner_id    TEXT NOT NULL,
  source_id     TEXT,
  file_name     TEXT NOT NULL,
  sha256        TEXT NOT NULL,
  received_at   ${t.time} NOT NULL,
  import_date   ${t.date} NOT NULL,
  file_kind     TEXT NOT NULL CHECK (file_kind IN ('full','changes')),
  generation    INTEGER,
  status        TEXT NOT NULL CHECK (status IN ('in-progress','applied','duplicate','failed')),
  duplicate_of  TEXT,
  rows          INTEGER NOT NULL DEFAULT 0,
  applied       INTEGER NOT NULL DEFAULT 0,
  error_count   INTEGER NOT NULL DEFAULT 0,
  warning_count INTEGER NOT NULL DEFAULT 0,
  added         INTEGER NOT NULL DEFAULT 0,
  changed       INTEGER NOT NULL DEFAULT 0,
  terminated    INTEGER NOT NULL DEFAULT 0,
  error         TEXT,
  started_at    ${t.time} NOT NULL,
  updated_at    ${t.time} NOT NULL,
  finished_at   ${t.time}
);
-- One live (or unfinished) import per file; duplicates are extra rows that point at it.
CREATE UNIQUE INDEX roster_imports_file ON roster_imports (partner_id, file_name, sha256) WHERE status <> 'duplicate';
CREATE UNIQUE INDEX roster_imports_generation ON roster_imports (partner_id, generation) WHERE generation IS NOT NULL;
CREATE INDEX roster_imports_partner ON roster_imports (partner_id, id);

CREATE TABLE roster_import_issues (
  import_id TEXT NOT NULL REFERENCES roster_imports(id) ON DELETE CASCADE,
  line      INTEGER NOT NULL,
  kind      TEXT NOT NULL CHECK (kind IN ('error','warning')),
  reason    TEXT NOT NULL,
  PRIMARY KEY (import_id, line, kind, reason)
)${t.noRowid};

-- source_partner: whose file stated it. seen_generation: the last import (of that partner) whose
-- file listed the member; a full file terminates open rows it did not see.
CREATE TABLE roster_attributions (
  id              ${t.rowid},
  member_id       TEXT NOT NULL REFERENCES roster_members(member_id) ON DELETE CASCADE,
  source_partner  TEXT NOT NULL,
  partner_id      TEXT NOT NULL,
  role            TEXT NOT NULL CHECK (role IN ('aco','cp','pcp')),
  start_date      ${t.date} NOT NULL,
  end_date        ${t.date},
  import_id       TEXT,
  seen_generation INTEGER NOT NULL
);
CREATE INDEX roster_attributions_member ON roster_attributions (member_id, source_partner);
CREATE INDEX roster_attributions_open ON roster_attributions (source_partner, seen_generation) WHERE end_date IS NULL;
CREATE INDEX roster_attributions_ending ON roster_attributions (source_partner, end_date) WHERE end_date IS NOT NULL;

CREATE TABLE roster_consents (
  id             ${t.rowid},
  member_id      TEXT NOT NULL REFERENCES roster_members(member_id) ON DELETE CASCADE,
  partner_id     TEXT NOT NULL,
  category       TEXT NOT NULL CHECK (category IN ('behavioral-health','substance-use')),
  granted        ${t.flag} NOT NULL${t.flag === 'INTEGER' ? ' CHECK (granted IN (0,1))' : ''},
  source         TEXT NOT NULL,
  source_partner TEXT,
  import_id      TEXT,
  actor          TEXT,
  recorded_at    ${t.time} NOT NULL
);
CREATE INDEX roster_consents_latest ON roster_consents (member_id, partner_id, category, recorded_at);
CREATE INDEX roster_consents_file ON roster_consents (member_id, source_partner) WHERE source = 'member-file';

CREATE TABLE roster_diff_events (
  id         ${t.serial},
  import_id  TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  member_id  TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('added','changed','terminated')),
  detail     TEXT NOT NULL,
  partners   TEXT NOT NULL,
  created_at ${t.time} NOT NULL,
  notified   ${t.flag} NOT NULL DEFAULT ${t.no}
);
CREATE INDEX roster_diff_events_import ON roster_diff_events (import_id, kind);
CREATE INDEX roster_diff_events_created ON roster_diff_events (created_at, id);
CREATE INDEX roster_diff_events_pending ON roster_diff_events (id) WHERE ${t.not('notified')};

CREATE TABLE roster_unmatched (
  id          ${t.serial},
  message_id  TEXT NOT NULL UNIQUE,
  partner_id  TEXT,
  received_at ${t.time} NOT NULL,
  recorded_at ${t.time} NOT NULL,
  identifiers TEXT NOT NULL,
  match_key   TEXT,
  resolved_at ${t.time},
  member_id   TEXT
);
CREATE INDEX roster_unmatched_open ON roster_unmatched (id) WHERE resolved_at IS NULL;
CREATE INDEX roster_unmatched_key ON roster_unmatched (match_key) WHERE resolved_at IS NULL AND match_key IS NOT NULL;

CREATE TABLE roster_unmatched_identifiers (
  unmatched_id ${t.ref} NOT NULL REFERENCES roster_unmatched(id) ON DELETE CASCADE,
  system       TEXT NOT NULL,
  value        TEXT NOT NULL,
  PRIMARY KEY (unmatched_id, system, value)
)${t.noRowid};
CREATE INDEX roster_unmatched_identifiers_key ON roster_unmatched_identifiers (system, value);
`;

// Rows resolved before version 4 were routed by the release that resolved them (or lost to a
// crash, which cannot be told apart now): they count as routed, so an upgrade re-sends nothing.
const routedAt = (t: Types): string => `
ALTER TABLE roster_unmatched ADD COLUMN routed_at ${t.time};
UPDATE roster_unmatched SET routed_at = resolved_at WHERE resolved_at IS NOT NULL;
CREATE INDEX roster_unmatched_unrouted ON roster_unmatched (id) WHERE resolved_at IS NOT NULL AND routed_at IS NULL;
`;

const both = (version: number, name: string, sql: (t: Types) => string): DialectMigration => ({
  version,
  name,
  sqlite: sql(SQLITE),
  postgres: sql(POSTGRES),
});

const STEPS: readonly DialectMigration[] = [
  both(1, 'roster: members, identifiers, attributions, consents, imports, diff and unmatched events', initial),
  both(
    2,
    'roster: attributions by partner and role (members of a partner on a date)',
    () => 'CREATE INDEX roster_attributions_partner ON roster_attributions (partner_id, role, start_date);',
  ),
  {
    version: 3,
    name: 'roster: events still awaiting their notice, by import (recovery finds unnotified imports)',
    // The rowid ends every SQLite index: pages of one import's pending events in id order are range scans.
    sqlite: 'CREATE INDEX roster_diff_events_unnotified ON roster_diff_events (import_id) WHERE notified = 0;',
    postgres: 'CREATE INDEX roster_diff_events_unnotified ON roster_diff_events (import_id, id) WHERE NOT notified;',
  },
  both(4, 'roster: resolved unmatched events stay pending until their late routing is stored (routed_at)', routedAt),
  {
    version: 5,
    name: 'roster: times as epoch milliseconds on both engines',
    sqlite: '-- SQLite always stored them so',
    postgres: [
      timesToEpochMs('roster_members', ['created_at', 'updated_at']),
      timesToEpochMs('roster_imports', ['received_at', 'started_at', 'updated_at', 'finished_at']),
      timesToEpochMs('roster_consents', ['recorded_at']),
      timesToEpochMs('roster_diff_events', ['created_at']),
      timesToEpochMs('roster_unmatched', ['received_at', 'recorded_at', 'resolved_at', 'routed_at']),
    ].join('\n'),
  },
];

export const SQLITE_ROSTER_MIGRATIONS: readonly Migration[] = migrationsFor('sqlite', STEPS);
export const POSTGRES_ROSTER_MIGRATIONS: readonly Migration[] = migrationsFor('postgres', STEPS);

import { migrationsFor, timesToEpochMs, type DialectMigration, type Migration } from './migration.js';

// The message store's tables, written once for both engines. Versions 1-4 are what each engine
// created before the SQL layer was shared (INTEGER epoch ms on SQLite, TIMESTAMPTZ on Postgres);
// version 5 brings Postgres times to BIGINT epoch ms, so every query and parameter is the same on both.
// In SQLite, raw and fhir are the last columns of messages: SQLite reads a row's columns in order,
// so searches read metadata without walking overflow pages.

interface Types {
  time: string;
  bytes: string;
  flag: (column: string) => string;
  isSet: (column: string) => string;
  noRowid: string;
  /** deliveries.seq: SQLite's rowid (AUTOINCREMENT never reuses a value, and writers are serialized, so seq order is commit order); an identity sequence on Postgres. */
  deliveryKeys: string;
}

const SQLITE: Types = {
  time: 'INTEGER',
  bytes: 'BLOB',
  flag: (c) => `INTEGER NOT NULL CHECK (${c} IN (0,1))`,
  isSet: (c) => `${c} = 1`,
  noRowid: ' WITHOUT ROWID',
  deliveryKeys: `seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT NOT NULL UNIQUE,`,
};

const POSTGRES: Types = {
  time: 'TIMESTAMPTZ',
  bytes: 'BYTEA',
  flag: () => 'BOOLEAN NOT NULL',
  isSet: (c) => c,
  noRowid: '',
  deliveryKeys: `id              TEXT PRIMARY KEY,
  seq             BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,`,
};

const STATUSES_V1 = `'received','processed','rejected','failed'`;
const STATUSES_V2 = `'received','processed','filtered','rejected','failed'`;

// Indexes are created after the table has its final name (migration 2 rebuilds it on SQLite).
const messagesTable = (t: Types, statuses: string, table = 'messages'): string => `
CREATE TABLE ${table} (
  id              TEXT PRIMARY KEY,
  received_at     ${t.time} NOT NULL,
  source_kind     TEXT NOT NULL CHECK (source_kind IN ('mllp','http','sftp','api','replay')),
  source_name     TEXT NOT NULL,
  partner_id      TEXT,
  sender          TEXT,
  control_id      TEXT,
  message_type    TEXT,
  trigger_event   TEXT,
  version         TEXT,
  dedupe_key      TEXT NOT NULL UNIQUE,
  content_hash    TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN (${statuses})),
  status_reason   TEXT,
  duplicate_count INTEGER NOT NULL DEFAULT 0,
  replay_of       TEXT REFERENCES messages(id) ON DELETE SET NULL,
  updated_at      ${t.time} NOT NULL,
  raw             ${t.bytes} NOT NULL,
  fhir            TEXT
);
`;

const MESSAGES_INDEXES = `
CREATE INDEX messages_received ON messages (received_at, id);
CREATE INDEX messages_status ON messages (status, id);
CREATE INDEX messages_control_id ON messages (control_id);
CREATE INDEX messages_partner ON messages (partner_id, received_at);
CREATE INDEX messages_sender ON messages (sender, received_at);
CREATE INDEX messages_replay_of ON messages (replay_of) WHERE replay_of IS NOT NULL;
`;

const initial = (t: Types): string => `${messagesTable(t, STATUSES_V1)}${MESSAGES_INDEXES}

CREATE TABLE message_identifiers (
  message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  system     TEXT NOT NULL,
  value      TEXT NOT NULL,
  PRIMARY KEY (message_id, system, value)
)${t.noRowid};
CREATE INDEX message_identifiers_value ON message_identifiers (value, system);

CREATE TABLE receipts (
  id          TEXT PRIMARY KEY,
  message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  received_at ${t.time} NOT NULL,
  duplicate   ${t.flag('duplicate')},
  source_kind TEXT NOT NULL,
  source_name TEXT NOT NULL
);
CREATE INDEX receipts_message ON receipts (message_id, received_at);
CREATE INDEX receipts_duplicates ON receipts (duplicate) WHERE ${t.isSet('duplicate')};

CREATE TABLE deliveries (
  ${t.deliveryKeys}
  message_id      TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  destination     TEXT NOT NULL,
  patient_key     TEXT,
  status          TEXT NOT NULL CHECK (status IN ('pending','delivered','failed-retrying','dead','withheld','cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at ${t.time},
  last_error      TEXT,
  payload         TEXT,
  withheld_reason TEXT,
  created_at      ${t.time} NOT NULL,
  delivered_at    ${t.time},
  updated_at      ${t.time} NOT NULL
);
CREATE INDEX deliveries_message ON deliveries (message_id);
CREATE INDEX deliveries_patient ON deliveries (destination, patient_key, seq);
CREATE INDEX deliveries_destination_status ON deliveries (destination, status, seq);
-- The restart scan pages through unfinished deliveries in seq order without touching the (much
-- larger) set of finished ones.
CREATE INDEX deliveries_unfinished ON deliveries (seq) WHERE status IN ('pending','failed-retrying');

CREATE TABLE delivery_attempts (
  id          TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
  started_at  ${t.time} NOT NULL,
  duration_ms INTEGER NOT NULL,
  outcome     TEXT NOT NULL CHECK (outcome IN ('success','retryable-error','fatal-error')),
  http_status INTEGER,
  ack_code    TEXT,
  error       TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, started_at);

CREATE TABLE audit_events (
  id           TEXT PRIMARY KEY,
  at           ${t.time} NOT NULL,
  actor        TEXT NOT NULL,
  action       TEXT NOT NULL,
  subject_type TEXT NOT NULL,
  subject_id   TEXT,
  detail       TEXT
);
CREATE INDEX audit_events_subject ON audit_events (subject_type, subject_id, at);
CREATE INDEX audit_events_at ON audit_events (at, id);
`;

const STEPS: readonly DialectMigration[] = [
  { version: 1, name: 'initial schema', sqlite: initial(SQLITE), postgres: initial(POSTGRES) },
  {
    version: 2,
    name: 'messages: status filtered (accepted, nothing to send: no converter, no route, unmatched member)',
    // SQLite cannot alter a CHECK constraint: the table is rebuilt (its documented 12-step
    // procedure), same columns in the same order. Postgres named migration 1's CHECK messages_status_check.
    rebuildsTables: true,
    sqlite: `${messagesTable(SQLITE, STATUSES_V2, 'messages_v2')}
INSERT INTO messages_v2 SELECT id, received_at, source_kind, source_name, partner_id, sender, control_id, message_type,
  trigger_event, version, dedupe_key, content_hash, status, status_reason, duplicate_count, replay_of, updated_at, raw, fhir
  FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v2 RENAME TO messages;${MESSAGES_INDEXES}`,
    postgres: `
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check CHECK (status IN (${STATUSES_V2}));`,
  },
  {
    version: 3,
    name: 'deliveries: route_id and partner_id (why each delivery exists)',
    // Nullable columns: no table rebuild.
    sqlite: 'ALTER TABLE deliveries ADD COLUMN route_id TEXT; ALTER TABLE deliveries ADD COLUMN partner_id TEXT;',
    postgres:
      'ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS route_id TEXT; ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS partner_id TEXT;',
  },
  {
    version: 4,
    name: 'messages by status, newest first',
    // The console and GET /api/messages list a status newest first: without (status, received_at)
    // a common status (processed) sorted every matching row (~0.6 s at 100k messages).
    sqlite: 'CREATE INDEX messages_status_received ON messages (status, received_at, id);',
    postgres: 'CREATE INDEX messages_status_received ON messages (status, received_at, id);',
  },
  {
    version: 5,
    name: 'times as epoch milliseconds on both engines',
    sqlite: '-- SQLite always stored them so',
    postgres: [
      timesToEpochMs('messages', ['received_at', 'updated_at']),
      timesToEpochMs('receipts', ['received_at']),
      timesToEpochMs('deliveries', ['next_attempt_at', 'created_at', 'delivered_at', 'updated_at']),
      timesToEpochMs('delivery_attempts', ['started_at']),
      timesToEpochMs('audit_events', ['at']),
    ].join('\n'),
  },
];

export const SQLITE_MIGRATIONS: readonly Migration[] = migrationsFor('sqlite', STEPS);
export const POSTGRES_MIGRATIONS: readonly Migration[] = migrationsFor('postgres', STEPS);

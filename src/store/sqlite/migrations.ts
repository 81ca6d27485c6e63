import type { Migration } from '../migration.js';
import { SQLITE_FILTERED_STATUS } from './migration-filtered-status.js';
import { SQLITE_DELIVERY_ROUTES } from './migration-delivery-routes.js';

// SQLite schema. Times are INTEGER epoch milliseconds (compact, sortable, exact round trip to Date).
// raw and fhir are the last columns of messages: SQLite reads a row's columns in order, so keeping
// the large values at the end lets searches read metadata without walking overflow pages.

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE messages (
  id              TEXT PRIMARY KEY,
  received_at     INTEGER NOT NULL,
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
  status          TEXT NOT NULL CHECK (status IN ('received','processed','rejected','failed')),
  status_reason   TEXT,
  duplicate_count INTEGER NOT NULL DEFAULT 0,
  replay_of       TEXT REFERENCES messages(id) ON DELETE SET NULL,
  updated_at      INTEGER NOT NULL,
  raw             BLOB NOT NULL,
  fhir            TEXT
);
CREATE INDEX messages_received ON messages (received_at, id);
CREATE INDEX messages_status ON messages (status, id);
CREATE INDEX messages_control_id ON messages (control_id);
CREATE INDEX messages_partner ON messages (partner_id, received_at);
CREATE INDEX messages_sender ON messages (sender, received_at);
CREATE INDEX messages_replay_of ON messages (replay_of) WHERE replay_of IS NOT NULL;

CREATE TABLE message_identifiers (
  message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  system     TEXT NOT NULL,
  value      TEXT NOT NULL,
  PRIMARY KEY (message_id, system, value)
) WITHOUT ROWID;
CREATE INDEX message_identifiers_value ON message_identifiers (value, system);

CREATE TABLE receipts (
  id          TEXT PRIMARY KEY,
  message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  received_at INTEGER NOT NULL,
  duplicate   INTEGER NOT NULL CHECK (duplicate IN (0,1)),
  source_kind TEXT NOT NULL,
  source_name TEXT NOT NULL
);
CREATE INDEX receipts_message ON receipts (message_id, received_at);
CREATE INDEX receipts_duplicates ON receipts (duplicate) WHERE duplicate = 1;

-- seq is the rowid: AUTOINCREMENT never reuses a value, and SQLite serializes writers, so seq
-- order is commit order (what per-patient ordering needs).
CREATE TABLE deliveries (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT NOT NULL UNIQUE,
  message_id      TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  destination     TEXT NOT NULL,
  patient_key     TEXT,
  status          TEXT NOT NULL CHECK (status IN ('pending','delivered','failed-retrying','dead','withheld','cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_error      TEXT,
  payload         TEXT,
  withheld_reason TEXT,
  created_at      INTEGER NOT NULL,
  delivered_at    INTEGER,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX deliveries_message ON deliveries (message_id);
CREATE INDEX deliveries_patient ON deliveries (destination, patient_key, seq);
CREATE INDEX deliveries_destination_status ON deliveries (destination, status, seq);
-- Partial index: the restart scan pages through unfinished deliveries in seq order without
-- touching the (much larger) set of finished ones.
CREATE INDEX deliveries_unfinished ON deliveries (seq) WHERE status IN ('pending','failed-retrying');

CREATE TABLE delivery_attempts (
  id          TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
  started_at  INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  outcome     TEXT NOT NULL CHECK (outcome IN ('success','retryable-error','fatal-error')),
  http_status INTEGER,
  ack_code    TEXT,
  error       TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, started_at);

CREATE TABLE audit_events (
  id           TEXT PRIMARY KEY,
  at           INTEGER NOT NULL,
  actor        TEXT NOT NULL,
  action       TEXT NOT NULL,
  subject_type TEXT NOT NULL,
  subject_id   TEXT,
  detail       TEXT
);
CREATE INDEX audit_events_subject ON audit_events (subject_type, subject_id, at);
CREATE INDEX audit_events_at ON audit_events (at, id);
`,
  },
  SQLITE_FILTERED_STATUS,
  SQLITE_DELIVERY_ROUTES,
  {
    version: 4, // 2 is engine-registry's, 3 the delivery routes
    name: 'messages by status, newest first',
    // The console and GET /api/messages list a status newest first: without (status, received_at)
    // a common status (processed) sorted every matching row (~0.6 s at 100k messages).
    sql: `CREATE INDEX messages_status_received ON messages (status, received_at, id);`,
  },
];

import type { Migration } from '../migration.js';
import { POSTGRES_FILTERED_STATUS } from './migration-filtered-status.js';
import { POSTGRES_DELIVERY_ROUTES } from './migration-delivery-routes.js';

// Postgres schema: the same tables and columns as SQLite, with native types (timestamptz, bytea,
// boolean) and seq from an identity sequence shared by every gateway process.

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE messages (
  id              TEXT PRIMARY KEY,
  received_at     TIMESTAMPTZ NOT NULL,
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
  updated_at      TIMESTAMPTZ NOT NULL,
  raw             BYTEA NOT NULL,
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
);
CREATE INDEX message_identifiers_value ON message_identifiers (value, system);

CREATE TABLE receipts (
  id          TEXT PRIMARY KEY,
  message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  received_at TIMESTAMPTZ NOT NULL,
  duplicate   BOOLEAN NOT NULL,
  source_kind TEXT NOT NULL,
  source_name TEXT NOT NULL
);
CREATE INDEX receipts_message ON receipts (message_id, received_at);
CREATE INDEX receipts_duplicates ON receipts (duplicate) WHERE duplicate;

CREATE TABLE deliveries (
  id              TEXT PRIMARY KEY,
  seq             BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  message_id      TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  destination     TEXT NOT NULL,
  patient_key     TEXT,
  status          TEXT NOT NULL CHECK (status IN ('pending','delivered','failed-retrying','dead','withheld','cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ,
  last_error      TEXT,
  payload         TEXT,
  withheld_reason TEXT,
  created_at      TIMESTAMPTZ NOT NULL,
  delivered_at    TIMESTAMPTZ,
  updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX deliveries_message ON deliveries (message_id);
CREATE INDEX deliveries_patient ON deliveries (destination, patient_key, seq);
CREATE INDEX deliveries_destination_status ON deliveries (destination, status, seq);
CREATE INDEX deliveries_unfinished ON deliveries (seq) WHERE status IN ('pending','failed-retrying');

CREATE TABLE delivery_attempts (
  id          TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
  started_at  TIMESTAMPTZ NOT NULL,
  duration_ms INTEGER NOT NULL,
  outcome     TEXT NOT NULL CHECK (outcome IN ('success','retryable-error','fatal-error')),
  http_status INTEGER,
  ack_code    TEXT,
  error       TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, started_at);

CREATE TABLE audit_events (
  id           TEXT PRIMARY KEY,
  at           TIMESTAMPTZ NOT NULL,
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
  POSTGRES_FILTERED_STATUS,
  POSTGRES_DELIVERY_ROUTES,
  {
    version: 4, // 2 is engine-registry's, 3 the delivery routes
    name: 'messages by status, newest first',
    // The console and GET /api/messages list a status newest first: without (status, received_at)
    // a common status (processed) sorted every matching row (~0.6 s at 100k messages).
    sql: `CREATE INDEX messages_status_received ON messages (status, received_at, id);`,
  },
];

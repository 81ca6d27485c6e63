import type { Migration } from '../migration.js';

// SQLite cannot alter a CHECK constraint: the messages table is rebuilt (SQLite's documented
// 12-step procedure: new table, copy, drop, rename, indexes). The runner turns foreign keys off
// for it (`rebuildsTables`), so dropping the old table cascades nothing, and checks them after.
// Same columns in the same order (raw and fhir last, see migrations.ts).
export const SQLITE_FILTERED_STATUS: Migration = {
  version: 2,
  name: 'messages: status filtered (accepted, nothing to send: no converter, no route, unmatched member)',
  rebuildsTables: true,
  sql: `
CREATE TABLE messages_v2 (
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
  status          TEXT NOT NULL CHECK (status IN ('received','processed','filtered','rejected','failed')),
  status_reason   TEXT,
  duplicate_count INTEGER NOT NULL DEFAULT 0,
  replay_of       TEXT REFERENCES messages(id) ON DELETE SET NULL,
  updated_at      INTEGER NOT NULL,
  raw             BLOB NOT NULL,
  fhir            TEXT
);
INSERT INTO messages_v2 SELECT id, received_at, source_kind, source_name, partner_id, sender, control_id, message_type,
  trigger_event, version, dedupe_key, content_hash, status, status_reason, duplicate_count, replay_of, updated_at, raw, fhir
  FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v2 RENAME TO messages;
CREATE INDEX messages_received ON messages (received_at, id);
CREATE INDEX messages_status ON messages (status, id);
CREATE INDEX messages_control_id ON messages (control_id);
CREATE INDEX messages_partner ON messages (partner_id, received_at);
CREATE INDEX messages_sender ON messages (sender, received_at);
CREATE INDEX messages_replay_of ON messages (replay_of) WHERE replay_of IS NOT NULL;
`,
};

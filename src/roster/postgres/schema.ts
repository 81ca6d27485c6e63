import type { Migration } from '../../store/migration.js';

// Roster tables on Postgres: the same shape as the SQLite schema (sqlite/schema.ts), versioned in
// roster_schema_migrations. Calendar dates stay YYYY-MM-DD text so both backends compare them the
// same way (and pg never turns them into time-zone-shifted Date objects).

export const POSTGRES_ROSTER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'roster: members, identifiers, attributions, consents, imports, diff and unmatched events',
    sql: `
CREATE TABLE roster_members (
  member_id  TEXT PRIMARY KEY,
  status     TEXT NOT NULL CHECK (status IN ('active','terminated')),
  family     TEXT,
  given      TEXT,
  birth_date TEXT COLLATE "C",
  sex        TEXT,
  address    TEXT,
  phone      TEXT,
  match_key  TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX roster_members_match ON roster_members (match_key) WHERE match_key IS NOT NULL;

CREATE TABLE roster_identifiers (
  system    TEXT NOT NULL,
  value     TEXT NOT NULL,
  type      TEXT,
  member_id TEXT NOT NULL REFERENCES roster_members(member_id) ON DELETE CASCADE,
  PRIMARY KEY (system, value)
);
CREATE INDEX roster_identifiers_member ON roster_identifiers (member_id);
-- The systems in use: a lookup by value alone probes each (system, value) key instead of keeping
-- a third index over millions of identifiers.
CREATE TABLE roster_identifier_systems (system TEXT PRIMARY KEY);

CREATE TABLE roster_imports (
  id            TEXT PRIMARY KEY,
  partner_id    TEXT NOT NULL,
  source_id     TEXT,
  file_name     TEXT NOT NULL,
  sha256        TEXT NOT NULL,
  received_at   TIMESTAMPTZ NOT NULL,
  import_date   TEXT COLLATE "C" NOT NULL,
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
  started_at    TIMESTAMPTZ NOT NULL,
  updated_at    TIMESTAMPTZ NOT NULL,
  finished_at   TIMESTAMPTZ
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
);

-- source_partner: whose file stated it. seen_generation: the last import (of that partner) whose
-- file listed the member; a full file terminates open rows it did not see.
CREATE TABLE roster_attributions (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  member_id       TEXT NOT NULL REFERENCES roster_members(member_id) ON DELETE CASCADE,
  source_partner  TEXT NOT NULL,
  partner_id      TEXT NOT NULL,
  role            TEXT NOT NULL CHECK (role IN ('aco','cp','pcp')),
  start_date      TEXT COLLATE "C" NOT NULL,
  end_date        TEXT COLLATE "C",
  import_id       TEXT,
  seen_generation INTEGER NOT NULL
);
CREATE INDEX roster_attributions_member ON roster_attributions (member_id, source_partner);
CREATE INDEX roster_attributions_open ON roster_attributions (source_partner, seen_generation) WHERE end_date IS NULL;
CREATE INDEX roster_attributions_ending ON roster_attributions (source_partner, end_date) WHERE end_date IS NOT NULL;

CREATE TABLE roster_consents (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  member_id      TEXT NOT NULL REFERENCES roster_members(member_id) ON DELETE CASCADE,
  partner_id     TEXT NOT NULL,
  category       TEXT NOT NULL CHECK (category IN ('behavioral-health','substance-use')),
  granted        BOOLEAN NOT NULL,
  source         TEXT NOT NULL,
  source_partner TEXT,
  import_id      TEXT,
  actor          TEXT,
  recorded_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX roster_consents_latest ON roster_consents (member_id, partner_id, category, recorded_at);
CREATE INDEX roster_consents_file ON roster_consents (member_id, source_partner) WHERE source = 'member-file';

CREATE TABLE roster_diff_events (
  id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  import_id  TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  member_id  TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('added','changed','terminated')),
  detail     TEXT NOT NULL,
  partners   TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  notified   BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX roster_diff_events_import ON roster_diff_events (import_id, kind);
CREATE INDEX roster_diff_events_created ON roster_diff_events (created_at, id);
CREATE INDEX roster_diff_events_pending ON roster_diff_events (id) WHERE NOT notified;

CREATE TABLE roster_unmatched (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id  TEXT NOT NULL UNIQUE,
  partner_id  TEXT,
  received_at TIMESTAMPTZ NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL,
  identifiers TEXT NOT NULL,
  match_key   TEXT,
  resolved_at TIMESTAMPTZ,
  member_id   TEXT
);
CREATE INDEX roster_unmatched_open ON roster_unmatched (id) WHERE resolved_at IS NULL;
CREATE INDEX roster_unmatched_key ON roster_unmatched (match_key) WHERE resolved_at IS NULL AND match_key IS NOT NULL;

CREATE TABLE roster_unmatched_identifiers (
  unmatched_id BIGINT NOT NULL REFERENCES roster_unmatched(id) ON DELETE CASCADE,
  system       TEXT NOT NULL,
  value        TEXT NOT NULL,
  PRIMARY KEY (unmatched_id, system, value)
);
CREATE INDEX roster_unmatched_identifiers_key ON roster_unmatched_identifiers (system, value);
`,
  },
  {
    version: 2,
    name: 'roster: attributions by partner and role (members of a partner on a date)',
    sql: `CREATE INDEX roster_attributions_partner ON roster_attributions (partner_id, role, start_date);`,
  },
  {
    version: 3,
    name: 'roster: events still awaiting their notice, by import (recovery finds unnotified imports)',
    sql: `CREATE INDEX roster_diff_events_unnotified ON roster_diff_events (import_id, id) WHERE NOT notified;`,
  },
  {
    version: 4,
    name: 'roster: resolved unmatched events stay pending until their late routing is stored (routed_at)',
    // Rows resolved before this version were routed by the release that resolved them (or lost to a
    // crash, which cannot be told apart now): they count as routed, so an upgrade re-sends nothing.
    sql: `
ALTER TABLE roster_unmatched ADD COLUMN routed_at TIMESTAMPTZ;
UPDATE roster_unmatched SET routed_at = resolved_at WHERE resolved_at IS NOT NULL;
CREATE INDEX roster_unmatched_unrouted ON roster_unmatched (id) WHERE resolved_at IS NOT NULL AND routed_at IS NULL;
`,
  },
];

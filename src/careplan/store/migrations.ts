import type { Migration } from '../../store/migration.js';

// Care-plan tables. Same columns on both engines; times are epoch-millisecond integers on both, so
// the store's queries are shared (src/store/sql/). `seq` orders plans by creation for keyset paging.
//
//   careplans            one row per CarePlan: tracking columns + the resource JSON + version
//   careplan_signoffs    each PCP decision with its Provenance (id = deterministic Provenance id)
//   careplan_followups   the completed follow-up contact of a transition-of-care plan
//   careplan_files       care-plan / sign-off CSV files applied (partner + name + sha256)

function tables(seqColumn: string): string {
  return `
CREATE TABLE careplans (
  ${seqColumn},
  id              TEXT NOT NULL UNIQUE,
  kind            TEXT NOT NULL CHECK (kind IN ('transition-of-care','cp-plan')),
  member_id       TEXT,
  cp_partner      TEXT NOT NULL,
  aco_partner     TEXT,
  encounter_ref   TEXT,
  status          TEXT NOT NULL,
  signoff         TEXT CHECK (signoff IN ('pending','approved','rejected')),
  due_at          BIGINT,
  created_at      BIGINT NOT NULL,
  completed_at    BIGINT,
  updated_at      BIGINT NOT NULL,
  version         INTEGER NOT NULL,
  last_message_id TEXT,
  content_hash    TEXT NOT NULL,
  resource        TEXT NOT NULL
);
CREATE INDEX careplans_cp ON careplans (cp_partner, kind, seq);
CREATE INDEX careplans_aco ON careplans (aco_partner, kind, seq);
CREATE INDEX careplans_member ON careplans (member_id);
CREATE INDEX careplans_open_cp ON careplans (cp_partner, due_at, seq) WHERE completed_at IS NULL AND due_at IS NOT NULL;
CREATE INDEX careplans_open_aco ON careplans (aco_partner, due_at, seq) WHERE completed_at IS NULL AND due_at IS NOT NULL;

CREATE TABLE careplan_signoffs (
  id            TEXT PRIMARY KEY,
  careplan_id   TEXT NOT NULL REFERENCES careplans(id) ON DELETE CASCADE,
  plan_version  INTEGER NOT NULL,
  decision      TEXT NOT NULL CHECK (decision IN ('approved','rejected')),
  method        TEXT NOT NULL CHECK (method IN ('api','fhir','file')),
  decided_at    BIGINT NOT NULL,
  recorded_at   BIGINT NOT NULL,
  provenance    TEXT NOT NULL
);
CREATE INDEX careplan_signoffs_plan ON careplan_signoffs (careplan_id, recorded_at);

CREATE TABLE careplan_followups (
  careplan_id   TEXT PRIMARY KEY REFERENCES careplans(id) ON DELETE CASCADE,
  completed_at  BIGINT NOT NULL,
  recorded_at   BIGINT NOT NULL,
  recorded_by   TEXT NOT NULL
);

CREATE TABLE careplan_files (
  partner_id    TEXT NOT NULL,
  file_name     TEXT NOT NULL,
  sha256        TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('careplans','signoffs')),
  rows          INTEGER NOT NULL,
  applied       INTEGER NOT NULL,
  errors        INTEGER NOT NULL,
  recorded_at   BIGINT NOT NULL,
  PRIMARY KEY (partner_id, file_name, sha256)
);
`;
}

// The PCP's organization (issue 5: "routed to the member's ACO and the PCP's organization when
// configured"): a second signing partner of a CP plan, found by the same partner queries as the ACO.
const PCP_PARTNER = `
ALTER TABLE careplans ADD COLUMN pcp_partner TEXT;
CREATE INDEX careplans_pcp ON careplans (pcp_partner, kind, seq);
CREATE INDEX careplans_open_pcp ON careplans (pcp_partner, due_at, seq) WHERE completed_at IS NULL AND due_at IS NOT NULL;
`;

export const SQLITE_CAREPLAN_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'care plans, sign-offs, follow-ups, files', sql: tables('seq INTEGER PRIMARY KEY AUTOINCREMENT') },
  { version: 2, name: "the PCP's organization of a CP care plan", sql: PCP_PARTNER },
];

export const POSTGRES_CAREPLAN_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'care plans, sign-offs, follow-ups, files', sql: tables('seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY') },
  { version: 2, name: "the PCP's organization of a CP care plan", sql: PCP_PARTNER },
];

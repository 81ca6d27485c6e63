// The care-plan store: its own tables next to the message store (same SQLite file through a second
// connection, or the same Postgres database through its own small pool), versioned in
// careplan_schema_migrations. One implementation over the SQL layer (src/store/sql/); the
// contract suite in tests/integration/careplan runs it on both backends.
import type { CarePlan, Provenance } from 'fhir/r4.js';
import type { Page } from '../../store/paging.js';

export type CarePlanKind = 'transition-of-care' | 'cp-plan';
export const CAREPLAN_KINDS: readonly CarePlanKind[] = ['transition-of-care', 'cp-plan'];

/** Sign-off state of a CP care plan; transition-of-care plans are never signed (null). */
export type SignoffState = 'pending' | 'approved' | 'rejected';
export const SIGNOFF_STATES: readonly SignoffState[] = ['pending', 'approved', 'rejected'];

/**
 * One care plan and what tracking needs without parsing the resource.
 *
 * `dueAt` / `completedAt` are the plan's one tracked obligation: the follow-up contact of a
 * transition-of-care plan (due N business days after discharge, completed when the CP marks the
 * contact done), or the PCP sign-off of a CP care plan (due `unsignedDays` after it was submitted,
 * completed when approved). "Due and overdue" lists are then one query for both kinds.
 */
export interface CarePlanRecord {
  id: string;
  kind: CarePlanKind;
  /** Roster member id (null for a discharge of a member the roster did not know). */
  memberId: string | null;
  cpPartner: string;
  /** The ACO that signs a CP care plan; null for transition-of-care plans. */
  acoPartner: string | null;
  /**
   * The organization of the member's PCP (a partner listing the PCP's NPI in `pcpNpis`), which also
   * receives and may sign off a CP care plan; null when none is configured (and on transition-of-care plans).
   */
  pcpPartner: string | null;
  /** Reference key of the discharge Encounter (transition-of-care only). */
  encounterRef: string | null;
  /** CarePlan.status. */
  status: CarePlan['status'];
  signoff: SignoffState | null;
  dueAt: Date | null;
  createdAt: Date;
  completedAt: Date | null;
  updatedAt: Date;
  /** Starts at 1; every stored change adds one (CarePlan.meta.versionId). */
  version: number;
  resource: CarePlan;
  /** Hex SHA-256 of what the plan was built or submitted from (submission.ts contentHash). */
  contentHash: string;
  /** Message-store id of the message that routed the current submission to the ACO (CP plans). */
  lastMessageId: string | null;
}

/** What a save writes; `version` and `updatedAt` are the store's. No pcpPartner: none. */
export type CarePlanWrite = Omit<CarePlanRecord, 'version' | 'updatedAt' | 'pcpPartner'> & { pcpPartner?: string | null };

export interface SignoffRecord {
  /** The Provenance id (deterministic: the same decision twice is one record). */
  id: string;
  carePlanId: string;
  /** The plan version the decision was about. */
  planVersion: number;
  decision: 'approved' | 'rejected';
  method: 'api' | 'fhir' | 'file';
  decidedAt: Date;
  recordedAt: Date;
  provenance: Provenance;
}

export interface FollowUpRecord {
  carePlanId: string;
  completedAt: Date;
  recordedAt: Date;
  /** API key id, or `system`. */
  recordedBy: string;
}

export interface FileRecord {
  partnerId: string;
  fileName: string;
  sha256: string;
  kind: 'careplans' | 'signoffs';
  rows: number;
  applied: number;
  errors: number;
  recordedAt: Date;
}

export type { Page };

export interface CarePlanQuery {
  /** Plans this partner is the CP, the ACO or the PCP's organization of (see `role`). */
  partner?: string;
  /** Which side `partner` is on: cp, or aco = the signing side (the ACO or the PCP's organization); default any. */
  role?: 'cp' | 'aco';
  /** Visibility (API key scope): only plans whose CP, ACO or PCP organization is one of these; undefined = all. */
  partners?: readonly string[];
  kind?: CarePlanKind;
  signoff?: SignoffState;
  status?: CarePlan['status'];
  memberId?: string;
  /** Default 100, max 1000. */
  limit?: number;
  cursor?: string | null;
}

export interface OpenQuery {
  partner: string;
  role?: 'cp' | 'aco';
  kind?: CarePlanKind;
  /** Only obligations due before this instant (overdue ones when `now`). */
  dueBefore?: Date;
  limit?: number;
  cursor?: string | null;
}

export interface SaveExtras {
  signoff?: SignoffRecord;
  followUp?: FollowUpRecord;
}

export interface CarePlanStore {
  readonly kind: 'sqlite' | 'postgres';
  get(id: string): Promise<CarePlanRecord | null>;
  /**
   * Inserts the plan (expectedVersion 0) or replaces it when its stored version is expectedVersion,
   * with the extras in the same transaction. Null on a version conflict (someone else changed it:
   * read again and retry). A sign-off already recorded (same id) is kept as it was.
   */
  save(write: CarePlanWrite, expectedVersion: number, extras?: SaveExtras): Promise<CarePlanRecord | null>;
  /** Sets lastMessageId without a new version (the resource did not change). */
  setLastMessage(id: string, messageId: string): Promise<void>;
  /** In creation order. */
  list(query: CarePlanQuery): Promise<Page<CarePlanRecord>>;
  /** Not completed, with a due date; by due date. */
  listOpen(query: OpenQuery): Promise<Page<CarePlanRecord>>;
  /** Oldest first. */
  listSignoffs(carePlanId: string): Promise<SignoffRecord[]>;
  getFollowUp(carePlanId: string): Promise<FollowUpRecord | null>;
  /** Care-plan files (CSV) already applied: partner + name + sha256. */
  getFile(partnerId: string, fileName: string, sha256: string): Promise<FileRecord | null>;
  /** False when the file was recorded before (a re-drop). */
  recordFile(file: FileRecord): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

import type { MemberItem } from '../../adapters/member-common/types.js';
import type { Page } from '../store/paging.js';
import type { Attribution, ConsentRecord, Member, MemberIdentifier, RosterLookup, UnmatchedInput } from './types.js';

// The roster's storage contract. One implementation (sql-roster.ts) for SQLite and Postgres behind one class
// (roster-store.ts); the contract suite in tests/integration/roster runs against both.

export type Role = Attribution['role'];
export type ConsentCategory = ConsentRecord['category'];
export type ImportStatus = 'in-progress' | 'applied' | 'duplicate' | 'failed';
export type DiffKind = 'added' | 'changed' | 'terminated';

export const ROLES: readonly Role[] = ['aco', 'cp', 'pcp'];
export const CONSENT_CATEGORIES: readonly ConsentCategory[] = ['behavioral-health', 'substance-use'];
export const IMPORT_STATUSES: readonly ImportStatus[] = ['in-progress', 'applied', 'duplicate', 'failed'];
export const DIFF_KINDS: readonly DiffKind[] = ['added', 'changed', 'terminated'];

export interface ImportRequest {
  /** The partner whose file this is: its previous full file is what the diff compares against. */
  partnerId: string;
  /** Configured SFTP source id (for the API; not part of the idempotency key). */
  sourceId?: string;
  fileName: string;
  /** Hex SHA-256 of the file: partner + name + sha256 identify a file (a re-drop is a duplicate). */
  sha256: string;
  items: AsyncIterable<MemberItem>;
  /** When the file arrived. Default: now. */
  receivedAt?: Date;
  /** YYYY-MM-DD the import takes effect. Default: receivedAt's date in the store's time zone. */
  importDate?: string;
  /**
   * `full` (default): members this partner attributed before but absent from this file are
   * terminated. `changes` (834 update files): only what the file says is applied.
   */
  fileKind?: 'full' | 'changes';
  /** A CP's (or ACO's) own roster: every member is attributed to the importing partner in this role unless a column says otherwise. */
  selfRole?: 'aco' | 'cp';
}

export interface ResolvedUnmatched {
  /** Unmatched event id. */
  id: string;
  messageId: string;
  memberId: string;
}

export interface ImportCounts {
  /** Data rows read (records + row errors; warnings are not rows). */
  rows: number;
  applied: number;
  errors: number;
  warnings: number;
  added: number;
  changed: number;
  terminated: number;
}

export interface ImportResult extends ImportCounts {
  importId: string;
  status: 'applied' | 'duplicate' | 'failed';
  /** For a duplicate: the import that applied this file. */
  duplicateOf?: string;
  /** True when this run finished an import a crash (or a failure) left unfinished. */
  resumed: boolean;
  /** Why the file failed (file-level problem, no values). */
  error?: string;
  /** A full file with no applied row does not terminate anyone (an empty or unreadable file is not a roster). */
  absenceSkipped: boolean;
  /**
   * Unmatched ADT events this import made resolvable. They stay pending (`unroutedResolved`) until
   * `markUnmatchedRouted`, so a crash before their routing loses none of them.
   */
  resolvedUnmatched: ResolvedUnmatched[];
}

export interface ImportRecord extends ImportCounts {
  id: string;
  partnerId: string;
  sourceId: string | null;
  fileName: string;
  sha256: string;
  receivedAt: Date;
  importDate: string;
  fileKind: 'full' | 'changes';
  status: ImportStatus;
  duplicateOf: string | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface ImportIssue {
  line: number;
  kind: 'error' | 'warning';
  /** Names the column or element and the problem, never the value. */
  reason: string;
}

export interface ImportDetail extends ImportRecord {
  /** In line order; at most the stored cap (see RosterStoreOptions.maxStoredIssues). */
  issues: ImportIssue[];
}

export interface DiffEvent {
  id: string;
  importId: string;
  /** The partner whose file produced it. */
  partnerId: string;
  memberId: string;
  kind: DiffKind;
  /**
   * What changed: `{ aco|cp|pcp: { from, to } }` for assignments (null = none), `{ cpPeriod: { from, to } }`
   * for effective dates, `{ name|birthDate|sex|address|phone: { from, to } }` for demographics,
   * `{ identifiers: { added: [systems] } }`, `newMember: true`, and for terminations `reason: absent|explicit`.
   */
  detail: Record<string, unknown>;
  /** Every partner the event concerns (source, old and new ACO/CP): who may see it and who to notify. */
  partners: string[];
  createdAt: Date;
  notified: boolean;
}

export interface UnmatchedEvent {
  id: string;
  messageId: string;
  partnerId: string | null;
  receivedAt: Date;
  recordedAt: Date;
  identifiers: MemberIdentifier[];
  resolvedAt: Date | null;
  memberId: string | null;
  /** When its late routing (after it was resolved) was stored; null while still pending. */
  routedAt: Date | null;
}

export type { Page };

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

export interface ImportQuery extends PageQuery {
  partner?: string;
  /** Visibility filter (API key scope); undefined = all. */
  partners?: readonly string[];
  status?: ImportStatus;
}

export interface DiffEventQuery extends PageQuery {
  /** Events this partner is concerned by (its own file, or it is the old/new ACO/CP). */
  partner?: string;
  partners?: readonly string[];
  since?: Date;
  importId?: string;
  kind?: DiffKind;
  notified?: boolean;
}

export interface UnmatchedQuery extends PageQuery {
  resolved?: boolean;
  partners?: readonly string[];
}

export interface ConsentInput {
  partnerId: string;
  category: ConsentCategory;
  granted: boolean;
  /** member-file, api, fhir-consent. */
  source: string;
  /** Default: now. The latest recordedAt wins. */
  recordedAt?: Date;
  /** API key id or `system`. */
  actor?: string;
}

export interface IdentifierOwner {
  system: string;
  value: string;
  memberId: string;
}

export interface MatchingOptions {
  /** Identifier systems tried in this order; empty = any system, in the order the patient lists them. */
  identifierPrecedence?: readonly string[];
  /** Exact family + given + birth date + sex match when no identifier matched. Default false. */
  demographicMatch?: boolean;
}

export interface RosterStoreOptions {
  matching?: MatchingOptions;
  /** Time zone of partners' calendar dates (import date default). Default America/New_York. */
  timeZone?: string;
  /** Rows per transaction at most. Default 1000. */
  chunkSize?: number;
  /**
   * SQLite only (its transactions hold the event loop): chunks are sized to take about this long,
   * so ACKs of the same process wait at most about one chunk during a large import. Default 50 ms.
   */
  chunkTargetMs?: number;
  /** Row errors and warnings stored per import (all are counted). Default 10,000. */
  maxStoredIssues?: number;
}

export interface RosterStore extends RosterLookup {
  readonly kind: 'sqlite' | 'postgres';
  /** Streams a member file into the roster: see roster-store.ts for the rules. */
  importMemberFile(request: ImportRequest): Promise<ImportResult>;
  /** Matches still-unresolved unmatched events against the current roster; returns those now resolved. */
  reResolveUnmatched(): Promise<ResolvedUnmatched[]>;

  getMember(memberId: string): Promise<Member | null>;
  /** Members holding an identifier (`system` omitted: any system). */
  findMemberIds(identifier: { system?: string; value: string }): Promise<string[]>;
  identifierOwners(identifiers: readonly MemberIdentifier[]): Promise<IdentifierOwner[]>;
  /** Members whose normalized family|given|birthDate|sex equals the key (see matching.ts). */
  memberIdsByMatchKey(key: string): Promise<string[]>;
  /** Every attribution the member ever had, oldest first. */
  attributionHistory(memberId: string): Promise<Attribution[]>;
  latestConsent(memberId: string, partnerId: string, category: ConsentCategory): Promise<ConsentRecord | null>;
  /** Throws RosterNotFoundError for an unknown member. */
  recordConsent(memberId: string, input: ConsentInput): Promise<ConsentRecord>;
  /** True when one of the partners attributes, or is attributed, this member (ever). */
  memberConcerns(memberId: string, partners: readonly string[]): Promise<boolean>;

  listImports(query: ImportQuery): Promise<Page<ImportRecord>>;
  getImport(id: string, options?: { issueLimit?: number }): Promise<ImportDetail | null>;
  listDiffEvents(query: DiffEventQuery): Promise<Page<DiffEvent>>;
  /** Flags events as notified (the lead's router sent them); returns how many changed. */
  markDiffEventsNotified(ids: readonly string[]): Promise<number>;
  /**
   * Applied imports with events not yet flagged notified (a crash between the import and its
   * assignment notices), oldest first. `finishedBefore` (default now) skips imports still being notified.
   */
  importsAwaitingNotice(query?: { finishedBefore?: Date; limit?: number }): Promise<string[]>;
  listUnmatched(query: UnmatchedQuery): Promise<Page<UnmatchedEvent>>;
  /**
   * Resolved unmatched events whose late routing is not recorded yet (the import that resolved them
   * may have crashed before routing them), in id order. `resolvedBefore` (default now) skips
   * events an intake is routing right now; `after` is the last id of the previous page.
   */
  unroutedResolved(query?: { resolvedBefore?: Date; after?: string; limit?: number }): Promise<ResolvedUnmatched[]>;
  /** Records resolved events as routed (only once their routing is stored); returns how many changed. */
  markUnmatchedRouted(ids: readonly string[]): Promise<number>;

  ping(): Promise<void>;
  close(): Promise<void>;
}

export type { Attribution, ConsentRecord, Member, MemberIdentifier, UnmatchedInput };

import type { ChunkContext, ChunkItem, ChunkPlan } from './plan.js';
import type {
  Attribution,
  ConsentCategory,
  ConsentInput,
  ConsentRecord,
  DiffEvent,
  DiffEventQuery,
  IdentifierOwner,
  ImportCounts,
  ImportDetail,
  ImportQuery,
  ImportRecord,
  Member,
  MemberIdentifier,
  Page,
  ResolvedUnmatched,
  UnmatchedEvent,
  UnmatchedInput,
  UnmatchedQuery,
} from './store-types.js';

// What a database must do for the roster. The import rules live in importer.ts and plan.ts; a
// backend only loads, writes and answers queries (one implementation for both engines: sql-roster.ts).

export interface StartImportInput {
  partnerId: string;
  sourceId: string | null;
  fileName: string;
  sha256: string;
  receivedAt: Date;
  importDate: string;
  fileKind: 'full' | 'changes';
}

export type StartImportOutcome =
  | { kind: 'duplicate'; importId: string; duplicateOf: string }
  | {
      kind: 'started';
      importId: string;
      generation: number;
      /** The first run's values when resumed, so a re-run converges on the same dates. */
      importDate: string;
      receivedAt: Date;
      fileKind: 'full' | 'changes';
      resumed: boolean;
    };

export interface UnmatchedCandidate {
  id: string;
  messageId: string;
  identifiers: MemberIdentifier[];
  matchKey: string | null;
}

export interface RosterBackend {
  readonly kind: 'sqlite' | 'postgres';
  /** True when a call runs synchronously on the event loop (better-sqlite3): imports then keep chunks short. */
  readonly blocksEventLoop: boolean;

  /** Runs fn while holding the partner's import lock (one import per partner at a time, across processes where the database allows). */
  withPartnerLock<T>(partnerId: string, fn: () => Promise<T>): Promise<T>;
  /**
   * A file already applied → a `duplicate` row. The same file left in-progress (crash) or failed →
   * taken over under the same id and generation. Another file's unfinished import of this partner
   * (it crashed: the caller holds the partner lock) is marked failed. Else a new generation.
   */
  startImport(input: StartImportInput): Promise<StartImportOutcome>;
  /** Loads the chunk's slice of the roster, plans, writes, and records progress: one transaction. */
  applyChunk(ctx: ChunkContext, items: readonly ChunkItem[], progress: ImportCounts, issueBudget: number): Promise<ChunkPlan>;
  /** Ends up to `limit` members' attributions this partner's earlier files stated and this one did not; 0 when none are left. */
  sweepAbsent(ctx: ChunkContext, limit: number): Promise<number>;
  /** Final status; added/changed/terminated are counted from the stored events (a resumed run sees them all). */
  finishImport(importId: string, status: 'applied' | 'failed', counts: ImportCounts, error: string | null): Promise<ImportCounts>;

  unmatchedCandidates(afterId: string | null, limit: number, byDemographics: boolean): Promise<UnmatchedCandidate[]>;
  resolveUnmatched(resolved: ReadonlyArray<{ id: string; memberId: string }>, at: Date): Promise<void>;
  /** Resolved (at or before `resolvedBefore`), not yet routed, with id > afterId, in id order. */
  unroutedResolved(resolvedBefore: Date, afterId: string | null, limit: number): Promise<ResolvedUnmatched[]>;
  /** Guarded: only resolved events not yet routed change; returns how many did. */
  markUnmatchedRouted(ids: readonly string[], at: Date): Promise<number>;

  getMember(memberId: string, today: string): Promise<Member | null>;
  findMemberIds(identifier: { system?: string; value: string }): Promise<string[]>;
  identifierOwners(identifiers: readonly MemberIdentifier[]): Promise<IdentifierOwner[]>;
  memberIdsByMatchKey(key: string): Promise<string[]>;
  attributionHistory(memberId: string): Promise<Attribution[]>;
  attributedOn(memberId: string, date: string, role: 'aco' | 'cp'): Promise<string[]>;
  /** Members a partner is attributed to in a role on a date (care-plan status files). */
  membersOf(partnerId: string, date: string, role: 'aco' | 'cp'): Promise<string[]>;
  latestConsent(memberId: string, partnerId: string, category: ConsentCategory): Promise<ConsentRecord | null>;
  recordConsent(memberId: string, input: ConsentInput): Promise<ConsentRecord>;
  memberConcerns(memberId: string, partners: readonly string[]): Promise<boolean>;
  recordUnmatched(event: UnmatchedInput, matchKey: string | null): Promise<void>;

  listImports(query: ImportQuery): Promise<Page<ImportRecord>>;
  getImport(id: string, issueLimit: number): Promise<ImportDetail | null>;
  listDiffEvents(query: DiffEventQuery): Promise<Page<DiffEvent>>;
  markDiffEventsNotified(ids: readonly string[]): Promise<number>;
  /** Applied imports finished at or before `finishedBefore` with events not yet notified, oldest first. */
  importsAwaitingNotice(finishedBefore: Date, limit: number): Promise<string[]>;
  listUnmatched(query: UnmatchedQuery): Promise<Page<UnmatchedEvent>>;

  ping(): Promise<void>;
  close(): Promise<void>;
}

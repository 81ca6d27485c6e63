import { pageSize } from '../store/paging.js';
import { parseStoreUrl } from '../store/open-store.js';
import type { RosterBackend } from './backend.js';
import { dateInZone } from './dates.js';
import { RosterInputError } from './errors.js';
import { runImport, type ImporterSettings } from './importer.js';
import { RosterResolver } from './lookup.js';
import { integerId } from './paging.js';
import { openPostgresRoster, openSqliteRoster, type PostgresRosterOptions, type SqliteRosterOptions } from './open-roster.js';
import {
  CONSENT_CATEGORIES,
  type Attribution,
  type ConsentCategory,
  type ConsentInput,
  type ConsentRecord,
  type DiffEvent,
  type DiffEventQuery,
  type IdentifierOwner,
  type ImportDetail,
  type ImportQuery,
  type ImportRecord,
  type ImportRequest,
  type ImportResult,
  type Member,
  type MemberIdentifier,
  type Page,
  type ResolvedUnmatched,
  type RosterStore,
  type RosterStoreOptions,
  type UnmatchedEvent,
  type UnmatchedInput,
  type UnmatchedQuery,
} from './store-types.js';
import type { ResolveResult } from './types.js';
import { reResolveUnmatched } from './unmatched.js';

const DEFAULT_TIME_ZONE = 'America/New_York';

/** The roster: import rules (importer.ts), matching (lookup.ts) and queries over one backend. */
export class Roster implements RosterStore {
  readonly kind: 'sqlite' | 'postgres';
  private readonly settings: ImporterSettings;
  private readonly resolver: RosterResolver;
  private readonly matching: NonNullable<RosterStoreOptions['matching']>;

  constructor(
    private readonly backend: RosterBackend,
    options: RosterStoreOptions = {},
  ) {
    this.kind = backend.kind;
    const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
    // Throws RangeError on an unknown zone now rather than at the first import.
    dateInZone(new Date(), timeZone);
    const chunkSize = options.chunkSize ?? 1000;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RosterInputError('chunkSize must be a positive integer');
    const chunkTargetMs = options.chunkTargetMs ?? 50;
    if (!(chunkTargetMs > 0)) throw new RosterInputError('chunkTargetMs must be positive');
    this.settings = { timeZone, chunkSize, chunkTargetMs, maxStoredIssues: options.maxStoredIssues ?? 10_000, sweepSize: chunkSize };
    this.matching = options.matching ?? {};
    this.resolver = new RosterResolver(backend, this.matching, () => this.today());
  }

  /** Today in the roster's time zone. */
  today(): string {
    return dateInZone(new Date(), this.settings.timeZone);
  }

  importMemberFile(request: ImportRequest): Promise<ImportResult> {
    return runImport(this.backend, request, this.settings, () => this.reResolveUnmatched());
  }

  reResolveUnmatched(): Promise<ResolvedUnmatched[]> {
    return reResolveUnmatched(this.backend, this.matching);
  }

  // RosterLookup (routing)
  resolve(patient: Parameters<RosterResolver['resolve']>[0]): Promise<ResolveResult> {
    return this.resolver.resolve(patient);
  }
  attributedOn(memberId: string, date: string, role: 'aco' | 'cp'): Promise<string[]> {
    return this.resolver.attributedOn(memberId, date, role);
  }
  /** Members attributed to a partner in a role on a date (YYYY-MM-DD). */
  membersOf(partnerId: string, date: string, role: 'aco' | 'cp'): Promise<string[]> {
    return this.backend.membersOf(partnerId, date, role);
  }
  hasConsent(memberId: string, partnerId: string, category: ConsentCategory): Promise<boolean> {
    return this.resolver.hasConsent(memberId, partnerId, category);
  }
  recordUnmatched(event: UnmatchedInput): Promise<void> {
    return this.resolver.recordUnmatched(event);
  }

  // Queries
  getMember(memberId: string): Promise<Member | null> {
    return this.backend.getMember(memberId, this.today());
  }
  findMemberIds(identifier: { system?: string; value: string }): Promise<string[]> {
    return this.backend.findMemberIds(identifier);
  }
  identifierOwners(identifiers: readonly MemberIdentifier[]): Promise<IdentifierOwner[]> {
    return this.backend.identifierOwners(identifiers);
  }
  memberIdsByMatchKey(key: string): Promise<string[]> {
    return this.backend.memberIdsByMatchKey(key);
  }
  attributionHistory(memberId: string): Promise<Attribution[]> {
    return this.backend.attributionHistory(memberId);
  }
  latestConsent(memberId: string, partnerId: string, category: ConsentCategory): Promise<ConsentRecord | null> {
    return this.backend.latestConsent(memberId, partnerId, category);
  }
  async recordConsent(memberId: string, input: ConsentInput): Promise<ConsentRecord> {
    if (!input.partnerId?.trim()) throw new RosterInputError('partnerId is required');
    if (!CONSENT_CATEGORIES.includes(input.category)) throw new RosterInputError('category must be behavioral-health or substance-use');
    if (typeof input.granted !== 'boolean') throw new RosterInputError('granted must be true or false');
    if (!input.source?.trim()) throw new RosterInputError('source is required');
    if (input.recordedAt !== undefined && Number.isNaN(input.recordedAt.getTime()))
      throw new RosterInputError('recordedAt is not a valid time');
    return this.backend.recordConsent(memberId, input);
  }
  memberConcerns(memberId: string, partners: readonly string[]): Promise<boolean> {
    return this.backend.memberConcerns(memberId, partners);
  }
  listImports(query: ImportQuery): Promise<Page<ImportRecord>> {
    return this.backend.listImports(query);
  }
  getImport(id: string, options: { issueLimit?: number } = {}): Promise<ImportDetail | null> {
    return this.backend.getImport(id, options.issueLimit ?? 1000);
  }
  listDiffEvents(query: DiffEventQuery): Promise<Page<DiffEvent>> {
    return this.backend.listDiffEvents(query);
  }
  markDiffEventsNotified(ids: readonly string[]): Promise<number> {
    return this.backend.markDiffEventsNotified(ids);
  }
  importsAwaitingNotice(query: { finishedBefore?: Date; limit?: number } = {}): Promise<string[]> {
    return this.backend.importsAwaitingNotice(query.finishedBefore ?? new Date(), query.limit ?? 100);
  }
  listUnmatched(query: UnmatchedQuery): Promise<Page<UnmatchedEvent>> {
    return this.backend.listUnmatched(query);
  }
  async unroutedResolved(query: { resolvedBefore?: Date; after?: string; limit?: number } = {}): Promise<ResolvedUnmatched[]> {
    const after = query.after === undefined ? null : String(integerId(query.after));
    return this.backend.unroutedResolved(query.resolvedBefore ?? new Date(), after, pageSize(query.limit));
  }
  markUnmatchedRouted(ids: readonly string[]): Promise<number> {
    return this.backend.markUnmatchedRouted(ids, new Date());
  }
  ping(): Promise<void> {
    return this.backend.ping();
  }
  close(): Promise<void> {
    return this.backend.close();
  }
}

export interface OpenRosterOptions extends RosterStoreOptions {
  sqlite?: SqliteRosterOptions;
  postgres?: PostgresRosterOptions;
}

/**
 * Opens the roster in the database named by the message store's URL (`sqlite:` → a second
 * connection to the same WAL file; `postgres://` → its own small pool) and migrates its tables.
 */
export async function openRosterStore(url: string, options: OpenRosterOptions = {}): Promise<Roster> {
  const location = parseStoreUrl(url);
  const backend =
    location.kind === 'sqlite'
      ? openSqliteRoster(location.filename, options.sqlite)
      : await openPostgresRoster(location.connectionString, options.postgres);
  try {
    return new Roster(backend, options);
  } catch (err) {
    await backend.close();
    throw err;
  }
}

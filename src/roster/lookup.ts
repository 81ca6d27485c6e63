import type { RosterBackend } from './backend.js';
import { isCalendarDate } from './dates.js';
import { RosterInputError } from './errors.js';
import { candidateIdentifiers, matchKey, pickByPrecedence } from './matching.js';
import type { MatchingOptions } from './store-types.js';
import type { MemberIdentifier, ResolveResult, RosterLookup, UnmatchedInput } from './types.js';

type LookupBackend = Pick<
  RosterBackend,
  'identifierOwners' | 'getMember' | 'memberIdsByMatchKey' | 'attributedOn' | 'latestConsent' | 'recordUnmatched'
>;

/**
 * What routing asks for each ADT event. Identifier systems are tried in the configured precedence;
 * when none matches and demographic matching is on, an exact family + given + birth date + sex
 * match is accepted only if exactly one member has it (two candidates is not a match).
 */
export class RosterResolver implements RosterLookup {
  private readonly precedence: readonly string[];
  private readonly demographicMatch: boolean;

  constructor(
    private readonly backend: LookupBackend,
    matching: MatchingOptions,
    /** Today's date (YYYY-MM-DD) in the roster's time zone: which attributions a returned member shows. */
    private readonly today: () => string,
  ) {
    this.precedence = matching.identifierPrecedence ?? [];
    this.demographicMatch = matching.demographicMatch ?? false;
  }

  async resolve(patient: {
    identifiers: MemberIdentifier[];
    family?: string;
    given?: string;
    birthDate?: string;
    sex?: string;
  }): Promise<ResolveResult> {
    const candidates = candidateIdentifiers(patient.identifiers, this.precedence);
    if (candidates.length) {
      const owners = await this.backend.identifierOwners(candidates);
      const memberId = pickByPrecedence(candidates, owners, this.precedence);
      if (memberId !== undefined) {
        const member = await this.backend.getMember(memberId, this.today());
        if (member) return { kind: 'matched', member, by: 'identifier' };
      }
    }
    if (this.demographicMatch) {
      const key = matchKey(patient);
      if (key !== undefined) {
        const ids = await this.backend.memberIdsByMatchKey(key);
        if (ids.length === 1) {
          const member = await this.backend.getMember(ids[0], this.today());
          if (member) return { kind: 'matched', member, by: 'demographics' };
        }
      }
    }
    return { kind: 'unmatched' };
  }

  async attributedOn(memberId: string, date: string, role: 'aco' | 'cp'): Promise<string[]> {
    if (!isCalendarDate(date)) throw new RosterInputError('date must be YYYY-MM-DD');
    return this.backend.attributedOn(memberId, date, role);
  }

  /** No record, or a latest record that revokes, means no consent. */
  async hasConsent(memberId: string, partnerId: string, category: 'behavioral-health' | 'substance-use'): Promise<boolean> {
    return (await this.backend.latestConsent(memberId, partnerId, category))?.granted ?? false;
  }

  async recordUnmatched(event: UnmatchedInput): Promise<void> {
    await this.backend.recordUnmatched(event, matchKey(event) ?? null);
  }
}

import type { RosterBackend } from './backend.js';
import { candidateIdentifiers, pickByPrecedence } from './matching.js';
import type { MatchingOptions, ResolvedUnmatched } from './store-types.js';

const PAGE = 500;

/**
 * Re-runs matching for unresolved unmatched events that the roster can now answer (an identifier
 * of theirs exists, or their demographic key does): the database narrows the candidates, the
 * same precedence rules as live routing decide. Returns the newly resolved ones for routing.
 */
export async function reResolveUnmatched(backend: RosterBackend, matching: MatchingOptions): Promise<ResolvedUnmatched[]> {
  const precedence = matching.identifierPrecedence ?? [];
  const byDemographics = matching.demographicMatch ?? false;
  const out: ResolvedUnmatched[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await backend.unmatchedCandidates(after, PAGE, byDemographics);
    if (page.length === 0) break;
    const owners = await backend.identifierOwners(page.flatMap((c) => candidateIdentifiers(c.identifiers, precedence)));
    const resolved: ResolvedUnmatched[] = [];
    for (const c of page) {
      let memberId = pickByPrecedence(candidateIdentifiers(c.identifiers, precedence), owners, precedence);
      if (memberId === undefined && byDemographics && c.matchKey !== null) {
        const ids = await backend.memberIdsByMatchKey(c.matchKey);
        if (ids.length === 1) memberId = ids[0];
      }
      if (memberId !== undefined) resolved.push({ id: c.id, messageId: c.messageId, memberId });
    }
    if (resolved.length) await backend.resolveUnmatched(resolved, new Date());
    out.push(...resolved);
    after = page[page.length - 1].id;
  }
  return out;
}

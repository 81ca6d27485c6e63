/**
 * Who a member file attributes members to must be a partner this gateway knows: the ACO and CP
 * codes of each row go through the layout's `partnerCodes` (the sender's own ids → partner ids),
 * and a row whose ACO, CP or PCP still names no configured partner becomes a row error with its
 * line, instead of an attribution nobody can ever be routed to.
 */
// The engine's one door to the member-file adapters (allowed in eslint.config.js in place of file-intake.ts).
import {
  loadMemberLayout,
  readMemberFile,
  type LayoutProfile,
  type MemberFormat,
  type MemberInput,
  type MemberItem,
} from '../../adapters/member-common/index.js';

export {
  loadMemberLayout,
  memberLayoutPath,
  readMemberFile,
  MemberFileError,
  type LayoutProfile,
  type MemberFormat,
  type MemberItem,
} from '../../adapters/member-common/index.js';

/** A file source's `format` → the member layout it is read with (care-plan files have none). */
export const MEMBER_FORMAT_OF_SOURCE: Readonly<Record<string, MemberFormat | undefined>> = {
  'member-csv': 'delimited',
  'member-fixed-width': 'fixed-width',
  'x12-834': 'x12-834',
  'member-xlsx': 'xlsx',
};
import type { GatewayConfig } from '../config/types.js';

/** A partner's member file read with its layout, rows checked against the configured partners. */
export function readMembersOf(
  config: Pick<GatewayConfig, 'partners' | 'mappings'>,
  partner: string,
  format: MemberFormat,
  input: MemberInput,
): AsyncGenerator<MemberItem> {
  const layout = loadMemberLayout({ partner, format, mappingsDir: config.mappings.dir });
  return checkMemberPartners(readMemberFile(input, layout), layout, partnerDirectory(config));
}

export interface PartnerDirectory {
  partners: ReadonlySet<string>;
  /** NPIs some partner lists in pcpNpis; empty when no partner signs care plans as a PCP (then PCPs are not checked). */
  pcpNpis: ReadonlySet<string>;
}

export function partnerDirectory(config: Pick<GatewayConfig, 'partners'>): PartnerDirectory {
  const pcpNpis = new Set<string>();
  for (const p of Object.values(config.partners)) for (const npi of p.pcpNpis ?? []) pcpNpis.add(npi);
  return { partners: new Set(Object.keys(config.partners)), pcpNpis };
}

export async function* checkMemberPartners(
  items: AsyncIterable<MemberItem>,
  layout: LayoutProfile,
  directory: PartnerDirectory,
): AsyncGenerator<MemberItem> {
  const codes = layout.partnerCodes;
  for await (const item of items) {
    if (item.kind !== 'record') {
      yield item;
      continue;
    }
    const { record } = item;
    const a = record.attribution;
    const aco = a.aco?.trim() ? (codes.aco?.[a.aco.trim()] ?? a.aco.trim()) : undefined;
    const cp = a.cp?.trim() ? (codes.cp?.[a.cp.trim()] ?? a.cp.trim()) : undefined;
    const problems: string[] = [];
    // Partner codes are organization ids, not patient data: naming them helps fix the code map.
    if (aco !== undefined && !directory.partners.has(aco))
      problems.push(`ACO '${a.aco?.trim()}' maps to no configured partner (add it to the layout's partnerCodes.aco)`);
    if (cp !== undefined && !directory.partners.has(cp))
      problems.push(`CP '${a.cp?.trim()}' maps to no configured partner (add it to the layout's partnerCodes.cp)`);
    const pcp = a.pcpNpi?.trim();
    if (pcp && directory.pcpNpis.size > 0 && !directory.pcpNpis.has(pcp))
      problems.push(`PCP NPI '${pcp}' is not listed by any partner's pcpNpis`);
    if (problems.length > 0) {
      yield { kind: 'error', error: { line: record.line, reason: problems.join('; '), memberId: record.memberId } };
      continue;
    }
    if (aco === a.aco && cp === a.cp) yield item;
    else
      yield {
        kind: 'record',
        record: { ...record, attribution: { ...a, ...(aco !== undefined && { aco }), ...(cp !== undefined && { cp }) } },
      };
  }
}

/**
 * The shape every member (roster) file adapter produces. The roster store consumes these items
 * one at a time, so a 1M-row file is never held in memory.
 */
import type { LayoutProfile } from './layout-schema.js';

export type { LayoutProfile } from './layout-schema.js';

export type MemberAction = 'upsert' | 'terminate';
export type MemberSex = 'male' | 'female' | 'other' | 'unknown';
export type ConsentCategory = 'behavioral-health' | 'substance-use';

export interface MemberIdentifier {
  system: string;
  value: string;
  /** v2-0203 identifier type code, e.g. MA (Medicaid), MR, SS. */
  type?: string;
}

export interface MemberRecord {
  /** 1-based physical line where the row starts (834: number of the INS segment in the file, ISA = 1). */
  line: number;
  /** 834 INS-03 021/001/025/030 → upsert, 024 → terminate; files: upsert unless a status column says termed. */
  action: MemberAction;
  /** The Medicaid member id: the roster key. */
  memberId: string;
  /** identifiers[0] is always the member id under the layout's memberIdSystem (type MA); then MRNs, ACO/CP ids, SSN. */
  identifiers: MemberIdentifier[];
  name?: { family?: string; given?: string[] };
  /** YYYY-MM-DD */
  birthDate?: string;
  sex?: MemberSex;
  address?: { line?: string[]; city?: string; state?: string; postalCode?: string };
  phone?: string;
  /** Who the member is attributed to, with effective dates (YYYY-MM-DD; an open end is left out). */
  attribution: { aco?: string; cp?: string; pcpNpi?: string; start?: string; end?: string };
  consent?: { partner: string; category: ConsentCategory; granted: boolean }[];
  /** The source fields, for audit. PHI: never log it. */
  raw?: Record<string, string>;
}

/**
 * A row that could not be used. `reason` names the column or element and the problem, never the
 * value. `memberId` is set when the key itself was readable, so a roster diff can tell "present
 * but unreadable" from "absent" and does not terminate the member; it is PHI, never log it.
 */
export interface RowError {
  line: number;
  reason: string;
  memberId?: string;
}

/**
 * `warning`: something about the file as a whole that did not stop reading, e.g. an 834 SE/GE/IEA
 * count that does not match or a transaction set cut off before its SE. Rows still count.
 */
export type MemberItem =
  { kind: 'record'; record: MemberRecord } | { kind: 'error'; error: RowError } | { kind: 'warning'; warning: RowError };

export type MemberInput = NodeJS.ReadableStream | AsyncIterable<Buffer | string>;

/** Streams a file: never loads it whole. Throws MemberFileError when the file cannot be read at all. */
export type MemberFileReader<L extends LayoutProfile = LayoutProfile> = (input: MemberInput, layout: L) => AsyncGenerator<MemberItem>;

/**
 * The file as a whole is unusable (no header row, a mapped column missing, not an 834, not an
 * XLSX): nothing was applied, the file goes to error/. Message without values, like RowError.
 */
export class MemberFileError extends Error {
  override readonly name = 'MemberFileError';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `line ${line}: ${reason}` : reason);
  }
}

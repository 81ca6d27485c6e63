/**
 * Groups the segments of an 834 transaction set into members. Each INS opens loop 2000 and the
 * member lasts until the next INS or the SE. Inside it the assembler tracks the loop it is in,
 * because the same segment means different things in different loops: an N3 after NM1*IL is the
 * member's address, after NM1*31 a mailing address, after NM1*70 an old (incorrect) one; a DTP
 * after HD is a coverage date; a REF after N1*75 is a reporting-category value.
 */
import type { X12Segment } from './segment-splitter.js';

export interface CoverageDraft {
  /** HD elements. */
  hd: string[];
  dtp: Map<string, string[]>;
  refs: [string, string][];
  /** 2310 provider NM1s (PCP is NM1*P3). */
  providers: string[][];
}

export interface MemberDraft {
  /** Segment number of the INS. */
  line: number;
  ins: string[];
  /** Loop 2000 REFs in order: [qualifier, value]. */
  refs: [string, string][];
  /** Loop 2000 DTPs by qualifier (first kept). */
  dtp: Map<string, string[]>;
  /** 2100A member name (NM1*IL, or NM1*74 corrected), and its N3/N4/DMG/PER. */
  nm1?: string[];
  n3?: string[];
  n4?: string[];
  dmg?: string[];
  per: string[][];
  coverages: CoverageDraft[];
  /** 2750 reporting categories: N1*75 name (upper-cased) → REF-02 / DTP-03. */
  categories: Map<string, string>;
  /** Segment ids that carried a line break. */
  brokenSegments: string[];
  /** Segment texts by id (REF*0F, DTP*356, NM1*IL, ...), for audit. */
  raw: Record<string, string>;
}

/** The transaction-set header (1000A/B/C N1 loops) the members of that set share. */
export interface TransactionHeader {
  /** N1-01 entity code → N1 elements, e.g. P5 sponsor, IN payer, TV administrator. */
  n1: Map<string, string[]>;
}

type Loop =
  'outside' | 'header' | '2000' | '2100A' | '2100-other' | '2300' | '2310' | '2320' | '2330' | '2700' | '2710' | '2750' | 'after-2700';

const MEMBER_LOOPS: ReadonlySet<Loop> = new Set(['2000', '2100A', '2100-other']);

export class MemberAssembler {
  private loop: Loop = 'outside';
  private member: MemberDraft | undefined;
  private category: string | undefined;
  header: TransactionHeader = { n1: new Map() };
  /** Inside an ST that is not an 834: everything up to SE is skipped. */
  private skipping = false;

  /** The member completed by this segment, if any. */
  accept(seg: X12Segment): MemberDraft | undefined {
    const el = seg.el;
    const id = el[0];
    if (id === 'ST') {
      const done = this.close();
      this.header = { n1: new Map() };
      this.skipping = (el[1] ?? '').trim() !== '834';
      this.loop = 'header';
      return done;
    }
    if (id === 'SE' || id === 'GE' || id === 'IEA' || id === 'GS' || id === 'ISA') {
      const done = this.close();
      this.loop = 'outside';
      return done;
    }
    if (this.skipping || this.loop === 'outside') return undefined;
    if (id === 'INS') {
      const done = this.close();
      this.member = {
        line: seg.n,
        ins: el,
        refs: [],
        dtp: new Map(),
        per: [],
        coverages: [],
        categories: new Map(),
        brokenSegments: [],
        raw: {},
      };
      this.loop = '2000';
      this.keep(seg);
      return done;
    }
    if (this.loop === 'header') {
      if (id === 'N1') {
        const code = v(el, 1);
        if (!this.header.n1.has(code)) this.header.n1.set(code, el);
      }
      return undefined;
    }
    const m = this.member!;
    this.keep(seg);
    const coverage = m.coverages[m.coverages.length - 1];
    switch (id) {
      case 'REF':
        if (this.loop === '2000') m.refs.push([v(el, 1), v(el, 2)]);
        else if (this.loop === '2300') coverage.refs.push([v(el, 1), v(el, 2)]);
        else if (this.loop === '2750') this.categoryValue(v(el, 2));
        break;
      case 'DTP':
        if (this.loop === '2000') firstOnly(m.dtp, v(el, 1), el);
        else if (this.loop === '2300') firstOnly(coverage.dtp, v(el, 1), el);
        else if (this.loop === '2750') this.categoryValue(v(el, 3));
        break;
      case 'NM1': {
        const code = v(el, 1);
        if (MEMBER_LOOPS.has(this.loop)) {
          if ((code === 'IL' || code === '74') && !m.nm1) {
            m.nm1 = el;
            this.loop = '2100A';
          } else this.loop = '2100-other';
        } else if (this.loop === '2310') coverage.providers.push(el);
        else if (this.loop === '2320' || this.loop === '2330') this.loop = '2330';
        break;
      }
      case 'N3':
        if (this.loop === '2100A') m.n3 ??= el;
        break;
      case 'N4':
        if (this.loop === '2100A') m.n4 ??= el;
        break;
      case 'DMG':
        if (this.loop === '2100A') m.dmg ??= el;
        break;
      case 'PER':
        if (this.loop === '2100A') m.per.push(el);
        break;
      case 'HD':
        m.coverages.push({ hd: el, dtp: new Map(), refs: [], providers: [] });
        this.loop = '2300';
        break;
      case 'LX':
        if (this.loop === '2300' || this.loop === '2310') this.loop = '2310';
        else if (this.loop === '2700' || this.loop === '2710' || this.loop === '2750') this.loop = '2710';
        break;
      case 'COB':
        this.loop = '2320';
        break;
      case 'LS':
        this.loop = '2700';
        break;
      case 'LE':
        this.loop = 'after-2700';
        break;
      case 'N1':
        if ((this.loop === '2710' || this.loop === '2750') && v(el, 1) === '75') {
          this.category = v(el, 2).toUpperCase();
          this.loop = '2750';
        }
        break;
    }
    return undefined;
  }

  /** The member still open at the end of the file (its transaction set was never closed). */
  finish(): MemberDraft | undefined {
    const done = this.member;
    this.member = undefined;
    return done;
  }

  private close(): MemberDraft | undefined {
    const done = this.member;
    this.member = undefined;
    this.category = undefined;
    return done;
  }

  private categoryValue(value: string): void {
    const m = this.member!;
    if (this.category !== undefined && !m.categories.has(this.category)) m.categories.set(this.category, value);
  }

  private keep(seg: X12Segment): void {
    const m = this.member!;
    const id = seg.el[0];
    if (seg.lineBreak) m.brokenSegments.push(id);
    const keyed = id === 'REF' || id === 'DTP' || id === 'NM1' || id === 'N1' || id === 'AMT';
    const base = keyed ? `${id}*${v(seg.el, 1)}` : id;
    let key = base;
    for (let i = 2; key in m.raw; i++) key = `${base}#${i}`;
    m.raw[key] = seg.el.slice(1).join('*');
  }
}

/** Element k trimmed ('' when absent). */
export function v(el: readonly string[], k: number): string {
  return (el[k] ?? '').trim();
}

function firstOnly(map: Map<string, string[]>, key: string, el: string[]): void {
  if (!map.has(key)) map.set(key, el);
}

/**
 * Checks the X12 envelope as segments stream by: SE-01 segment counts, GE-01 transaction set
 * counts, IEA-01 group counts and the matching control numbers. A mismatch does not stop
 * reading (the members are still there) but is reported as a warning, as is a file that ends
 * inside a transaction set, group or interchange (a cut-off download).
 */
import type { RowError } from '../member-common/types.js';
import type { X12Segment } from './segment-splitter.js';

export class EnvelopeChecker {
  private isa: { n: number; control: string; groups: number } | undefined;
  private gs: { n: number; control: string; sets: number } | undefined;
  private st: { n: number; control: string } | undefined;

  /** Warnings raised by this segment (usually none). */
  accept(seg: X12Segment): RowError[] {
    const warnings: RowError[] = [];
    const warn = (reason: string) => warnings.push({ line: seg.n, reason });
    const e = (k: number) => (seg.el[k] ?? '').trim();
    switch (seg.el[0]) {
      case 'ISA':
        if (this.isa) warn('ISA: a new interchange starts before the IEA of the previous one');
        this.isa = { n: seg.n, control: e(13), groups: 0 };
        this.gs = undefined;
        this.st = undefined;
        break;
      case 'GS':
        if (this.gs) warn('GS: a new functional group starts before the GE of the previous one');
        if (this.isa) this.isa.groups++;
        this.gs = { n: seg.n, control: e(6), sets: 0 };
        this.st = undefined;
        break;
      case 'ST':
        if (this.st) warn('ST: a new transaction set starts before the SE of the previous one');
        if (this.gs) this.gs.sets++;
        this.st = { n: seg.n, control: e(2) };
        break;
      case 'SE':
        if (!this.st) {
          warn('SE: no transaction set is open');
          break;
        }
        countCheck(warn, 'SE-01', e(1), seg.n - this.st.n + 1, 'segments');
        if (e(2) !== this.st.control) warn('SE-02: control number does not match ST-02');
        this.st = undefined;
        break;
      case 'GE':
        if (!this.gs) {
          warn('GE: no functional group is open');
          break;
        }
        if (this.st) warn(`SE: missing before GE (transaction set from segment ${this.st.n})`);
        countCheck(warn, 'GE-01', e(1), this.gs.sets, 'transaction sets');
        if (e(2) !== this.gs.control) warn('GE-02: control number does not match GS-06');
        this.gs = undefined;
        this.st = undefined;
        break;
      case 'IEA':
        if (!this.isa) {
          warn('IEA: no interchange is open');
          break;
        }
        if (this.gs) warn(`GE: missing before IEA (functional group from segment ${this.gs.n})`);
        countCheck(warn, 'IEA-01', e(1), this.isa.groups, 'functional groups');
        if (e(2) !== this.isa.control) warn('IEA-02: control number does not match ISA-13');
        this.isa = undefined;
        this.gs = undefined;
        this.st = undefined;
        break;
    }
    return warnings;
  }

  /** Warnings for envelopes left open at the end of the file; `lastSegment` locates them. */
  finish(lastSegment: number): RowError[] {
    const warnings: RowError[] = [];
    if (this.st)
      warnings.push({
        line: lastSegment,
        reason: `the file ends inside a transaction set (no SE for the ST at segment ${this.st.n}): cut off?`,
      });
    if (this.gs)
      warnings.push({ line: lastSegment, reason: `the file ends inside a functional group (no GE for the GS at segment ${this.gs.n})` });
    if (this.isa)
      warnings.push({ line: lastSegment, reason: `the file ends inside an interchange (no IEA for the ISA at segment ${this.isa.n})` });
    return warnings;
  }
}

function countCheck(warn: (reason: string) => void, element: string, stated: string, actual: number, what: string): void {
  if (!/^\d+$/.test(stated)) warn(`${element}: not a number`);
  else if (Number(stated) !== actual) warn(`${element}: says ${Number(stated)} ${what}, counted ${actual}`);
}

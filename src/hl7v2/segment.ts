import type { Delimiters } from './delimiters.js';
import { escapeValue, unescapeValue } from './escape.js';

// Scratch registers for range narrowing: avoids allocating a tuple per lookup on the hot path.
let rangeStart = 0;
let rangeEnd = 0;

/** Narrows [s, e) of `src` to the n-th (1-based) piece separated by `ch`; false when absent. */
function narrow(src: string, s: number, e: number, ch: string, n: number): boolean {
  let start = s;
  for (let k = 1; k < n; k++) {
    const at = src.indexOf(ch, start);
    if (at < 0 || at >= e) return false;
    start = at + 1;
  }
  const stop = src.indexOf(ch, start);
  rangeStart = start;
  rangeEnd = stop < 0 || stop > e ? e : stop;
  return true;
}

function countPieces(src: string, s: number, e: number, ch: string): number {
  if (s >= e) return 0;
  let n = 1;
  let at = src.indexOf(ch, s);
  while (at >= 0 && at < e) {
    n++;
    at = src.indexOf(ch, at + 1);
  }
  return n;
}

/** The explicit HL7 null: the field is present and says "delete this value". */
export const HL7_NULL = '""';

/**
 * One segment as a view over the message text. Field boundaries are found on the first read
 * of any field and values are cut only when asked for, so unread segments cost one object.
 * Field, repetition, component and subcomponent numbers are 1-based, as in the standard.
 */
export class Segment {
  /** Offsets of the field separators in `src`, found lazily. */
  private seps: number[] | undefined;
  /** Set when a value was changed: the segment then owns its own text. */
  private edited = false;

  constructor(
    readonly name: string,
    private src: string,
    private start: number,
    private end: number,
    private readonly d: Delimiters,
  ) {}

  /** True for MSH, FHS and BHS, whose field 1 is the separator itself and field 2 the encoding characters. */
  get isHeader(): boolean {
    return this.name === 'MSH' || this.name === 'FHS' || this.name === 'BHS';
  }

  get modified(): boolean {
    return this.edited;
  }

  /** The segment's text as it stands (original bytes unless modified). */
  toString(): string {
    return this.src.slice(this.start, this.end);
  }

  /** Number of fields present (the highest field number with a separator before it). */
  get fieldCount(): number {
    const seps = this.separators();
    return this.isHeader ? seps.length + 1 : seps.length;
  }

  private separators(): number[] {
    if (this.seps) return this.seps;
    const seps: number[] = [];
    const f = this.d.field;
    let at = this.src.indexOf(f, this.start + 3);
    while (at >= 0 && at < this.end) {
      seps.push(at);
      at = this.src.indexOf(f, at + 1);
    }
    this.seps = seps;
    return seps;
  }

  /** Sets rangeStart/rangeEnd to the raw field; false when the field is absent. */
  private fieldRange(field: number): boolean {
    const seps = this.separators();
    // In header segments the first separator *is* field 1, so field n starts after separator n-1.
    const k = this.isHeader ? field - 1 : field;
    if (k < 1 || k > seps.length) return false;
    rangeStart = seps[k - 1] + 1;
    rangeEnd = k < seps.length ? seps[k] : this.end;
    return true;
  }

  /** The field exactly as transmitted (escapes, delimiters and all); '' when absent. */
  raw(field: number): string {
    if (this.isHeader && field === 1) return this.d.field;
    if (!this.fieldRange(field)) return '';
    return this.src.slice(rangeStart, rangeEnd);
  }

  /**
   * A decoded leaf value. Absent and empty read as ''; so does the explicit null `""`
   * (use isNull to tell it apart). MSH-1 and MSH-2 are returned verbatim, never split.
   */
  get(field: number, rep = 1, comp = 1, sub = 1): string {
    if (this.isHeader && field <= 2) return field === 1 ? this.d.field : rep === 1 && comp === 1 && sub === 1 ? this.raw(2) : '';
    if (!this.fieldRange(field)) return '';
    const src = this.src;
    const d = this.d;
    if (!narrow(src, rangeStart, rangeEnd, d.repetition, rep)) return '';
    if (!narrow(src, rangeStart, rangeEnd, d.component, comp)) return '';
    if (!narrow(src, rangeStart, rangeEnd, d.subcomponent, sub)) return '';
    const s = rangeStart;
    const e = rangeEnd;
    if (e === s) return '';
    if (e - s === 2 && src.charCodeAt(s) === 34 && src.charCodeAt(s + 1) === 34) return '';
    return unescapeValue(src.slice(s, e), d);
  }

  /** True when the addressed value is the explicit null `""`. */
  isNull(field: number, rep = 1, comp = 1, sub = 1): boolean {
    if (!this.fieldRange(field)) return false;
    const d = this.d;
    if (!narrow(this.src, rangeStart, rangeEnd, d.repetition, rep)) return false;
    if (!narrow(this.src, rangeStart, rangeEnd, d.component, comp)) return false;
    if (!narrow(this.src, rangeStart, rangeEnd, d.subcomponent, sub)) return false;
    return this.src.slice(rangeStart, rangeEnd) === HL7_NULL;
  }

  get delimiters(): Delimiters {
    return this.d;
  }

  /**
   * One repetition split into its components, raw (escapes and subcomponents intact); [] when
   * absent. Typed readers use it to read many components with one scan instead of one each.
   */
  rawComponents(field: number, rep = 1): string[] {
    if (this.isHeader && field <= 2) return field === 1 ? [this.d.field] : [this.raw(2)];
    if (!this.fieldRange(field)) return [];
    if (!narrow(this.src, rangeStart, rangeEnd, this.d.repetition, rep)) return [];
    if (rangeStart === rangeEnd) return [];
    return this.src.slice(rangeStart, rangeEnd).split(this.d.component);
  }

  /** Repetitions present in a field (0 when empty or absent). */
  repetitions(field: number): number {
    if (this.isHeader && field <= 2) return this.raw(field) ? 1 : 0;
    if (!this.fieldRange(field)) return 0;
    return countPieces(this.src, rangeStart, rangeEnd, this.d.repetition);
  }

  /** Components present in one repetition of a field. */
  components(field: number, rep = 1): number {
    if (!this.fieldRange(field)) return 0;
    if (!narrow(this.src, rangeStart, rangeEnd, this.d.repetition, rep)) return 0;
    return countPieces(this.src, rangeStart, rangeEnd, this.d.component);
  }

  /** Subcomponents present in one component. */
  subcomponents(field: number, rep = 1, comp = 1): number {
    if (!this.fieldRange(field)) return 0;
    const d = this.d;
    if (!narrow(this.src, rangeStart, rangeEnd, d.repetition, rep)) return 0;
    if (!narrow(this.src, rangeStart, rangeEnd, d.component, comp)) return 0;
    return countPieces(this.src, rangeStart, rangeEnd, d.subcomponent);
  }

  /**
   * Sets one leaf value (escaping delimiters), growing the segment with empty fields,
   * repetitions or components as needed. Pass rep/comp/sub = 0 to replace the whole level
   * with an already-structured raw value: set(5, 'a^b', 0) writes the field raw, unescaped.
   */
  set(field: number, value: string, rep = 1, comp = 1, sub = 1): void {
    if (this.isHeader && field <= 2) throw new Error(`${this.name}-${field} holds the delimiters and cannot be set`);
    const d = this.d;
    const fields = this.splitFields();
    const fi = this.isHeader ? field - 1 : field;
    while (fields.length <= fi) fields.push('');
    if (rep === 0) {
      fields[fi] = value;
    } else {
      const reps = fields[fi] === '' ? [''] : fields[fi].split(d.repetition);
      while (reps.length < rep) reps.push('');
      if (comp === 0) reps[rep - 1] = value;
      else {
        const comps = reps[rep - 1] === '' ? [''] : reps[rep - 1].split(d.component);
        while (comps.length < comp) comps.push('');
        if (sub === 0) comps[comp - 1] = value;
        else {
          const subs = comps[comp - 1] === '' ? [''] : comps[comp - 1].split(d.subcomponent);
          while (subs.length < sub) subs.push('');
          subs[sub - 1] = escapeValue(value, d);
          comps[comp - 1] = subs.join(d.subcomponent);
        }
        reps[rep - 1] = comps.join(d.component);
      }
      fields[fi] = reps.join(d.repetition);
    }
    this.src = fields.join(d.field);
    this.start = 0;
    this.end = this.src.length;
    this.seps = undefined;
    this.edited = true;
  }

  /** The segment as [name, piece1, piece2, ...] split on the field separator. */
  private splitFields(): string[] {
    return this.toString().split(this.d.field);
  }
}

/**
 * X12 separators come from the ISA segment itself: the element separator is the character after
 * "ISA", the component separator is ISA-16 and the segment terminator follows it. The ISA is
 * read by counting its 16 element separators rather than by fixed positions, so a padded or
 * short ISA still parses.
 */

export interface X12Separators {
  element: string;
  /** undefined when ISA-16 is missing (seen in the wild: "...*P*~"). */
  component: string | undefined;
  segment: string;
}

export type SeparatorResult =
  { kind: 'found'; separators: X12Separators; warning?: string } | { kind: 'need-more' } | { kind: 'invalid'; reason: string };

// Look this far for the GS line before settling an ambiguous ISA by position.
const LOOKAHEAD = 4096;

/** `s` starts at the ISA (leading whitespace and BOM already removed). */
export function detectSeparators(s: string, final: boolean): SeparatorResult {
  if (s.length < 4)
    return final ? { kind: 'invalid', reason: 'not an X12 interchange: the file does not start with ISA' } : { kind: 'need-more' };
  if (!s.startsWith('ISA')) return { kind: 'invalid', reason: 'not an X12 interchange: the file does not start with ISA' };
  const element = s[3];
  if (/[A-Za-z0-9\s]/.test(element)) return { kind: 'invalid', reason: 'ISA: the element separator is a letter, digit or space' };
  let p = 3;
  for (let k = 1; k < 16; k++) {
    p = s.indexOf(element, p + 1);
    if (p < 0 || p > 200) {
      if (p < 0 && !final && s.length < 200) return { kind: 'need-more' };
      return { kind: 'invalid', reason: 'ISA: fewer than 16 elements' };
    }
  }
  // p: the separator before ISA-16.
  if (s.length < p + 3) return final ? { kind: 'invalid', reason: 'ISA: the segment terminator is missing' } : { kind: 'need-more' };
  const c1 = s[p + 1];
  const c2 = s[p + 2];
  if (c2 === '\r' || c2 === '\n') {
    // Either ISA-16 followed by a line-break terminator, or no ISA-16 and c1 is the terminator
    // followed by a cosmetic line break. The GS line tells: it ends with the terminator.
    const rest = s.slice(p + 2).replace(/^\s+/, '');
    const eol = rest.search(/[\r\n]/);
    if (eol < 0 && !final && s.length < LOOKAHEAD) return { kind: 'need-more' };
    const gsLine = (eol < 0 ? rest : rest.slice(0, eol)).trimEnd();
    if (gsLine.startsWith('GS') && gsLine.endsWith(c1)) {
      return check({ element, component: undefined, segment: c1 }, 'ISA-16: the component separator is missing');
    }
  }
  return check({ element, component: c1, segment: c2 });
}

function check(sep: X12Separators, warning?: string): SeparatorResult {
  const chars = [sep.element, sep.segment, ...(sep.component ? [sep.component] : [])];
  if (new Set(chars).size !== chars.length) return { kind: 'invalid', reason: 'ISA: the separators are not distinct' };
  if (/[A-Za-z0-9]/.test(sep.segment) || (sep.component && /[A-Za-z0-9]/.test(sep.component))) {
    return { kind: 'invalid', reason: 'ISA: a separator is a letter or digit' };
  }
  return warning ? { kind: 'found', separators: sep, warning } : { kind: 'found', separators: sep };
}

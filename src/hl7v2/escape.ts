import type { Delimiters } from './delimiters.js';

/**
 * Decodes HL7 escape sequences in one leaf value (a field, component or subcomponent that was
 * already split). Unknown or unterminated sequences are kept verbatim: real feeds contain stray
 * backslashes (Windows paths, free text) and dropping them would corrupt data.
 */
export function unescapeValue(raw: string, d: Delimiters): string {
  const esc = d.escape;
  let i = raw.indexOf(esc);
  if (i < 0) return raw;
  let out = '';
  let last = 0;
  while (i >= 0) {
    const close = raw.indexOf(esc, i + 1);
    if (close < 0) break;
    const seq = raw.slice(i + 1, close);
    const decoded = decodeSequence(seq, d);
    if (decoded === undefined) {
      // Not an escape we know: keep the opening character and continue scanning after it.
      i = raw.indexOf(esc, i + 1);
      continue;
    }
    out += raw.slice(last, i) + decoded;
    last = close + 1;
    i = raw.indexOf(esc, last);
  }
  return out + raw.slice(last);
}

function decodeSequence(seq: string, d: Delimiters): string | undefined {
  switch (seq) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'T':
      return d.subcomponent;
    case 'R':
      return d.repetition;
    case 'E':
      return d.escape;
    case 'P':
      return d.truncation;
    case '.br':
      return '\n';
  }
  if (seq.length > 1 && (seq[0] === 'X' || seq[0] === 'x')) return decodeHex(seq.slice(1));
  return undefined;
}

/** `\Xhhhh\`: bytes in hex; read as UTF-8 when valid, else one byte per character (Latin-1). */
function decodeHex(hex: string): string | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const bytes = Buffer.from(hex, 'hex');
  const utf8 = bytes.toString('utf8');
  return utf8.includes('\uFFFD') ? bytes.toString('latin1') : utf8;
}

/**
 * Escapes a value so it can be written as one leaf. Delimiters become \F\ \S\ \T\ \R\ \E\,
 * line breaks become \.br\ and a bare CR becomes \X0D\ (a CR would otherwise end the segment).
 */
export function escapeValue(value: string, d: Delimiters): string {
  let needs = false;
  for (let k = 0; k < value.length; k++) {
    const c = value[k];
    if (
      c === d.field ||
      c === d.component ||
      c === d.subcomponent ||
      c === d.repetition ||
      c === d.escape ||
      c === '\r' ||
      c === '\n' ||
      (d.truncation !== undefined && c === d.truncation)
    ) {
      needs = true;
      break;
    }
  }
  if (!needs) return value;
  const e = d.escape;
  let out = '';
  for (let k = 0; k < value.length; k++) {
    const c = value[k];
    if (c === d.escape) out += `${e}E${e}`;
    else if (c === d.field) out += `${e}F${e}`;
    else if (c === d.component) out += `${e}S${e}`;
    else if (c === d.subcomponent) out += `${e}T${e}`;
    else if (c === d.repetition) out += `${e}R${e}`;
    else if (d.truncation !== undefined && c === d.truncation) out += `${e}P${e}`;
    else if (c === '\r' && value[k + 1] === '\n') {
      out += `${e}.br${e}`;
      k++;
    } else if (c === '\n') out += `${e}.br${e}`;
    else if (c === '\r') out += `${e}X0D${e}`;
    else out += c;
  }
  return out;
}

/** Checks on values that are easy to get wrong in partner files, and their normal forms. */

/** NPI: 10 digits whose last is a Luhn check digit over "80840" + the first nine (CMS rule). */
export function isValidNpi(npi: string): boolean {
  if (!/^\d{10}$/.test(npi)) return false;
  let sum = 24; // the digits of the 80840 prefix, as the Luhn algorithm weighs them
  for (let i = 8; i >= 0; i--) {
    let d = npi.charCodeAt(i) - 48;
    if ((8 - i) % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10 === npi.charCodeAt(9) - 48;
}

/** US ZIP or ZIP+4; a bare 9-digit ZIP+4 gets its hyphen. undefined when it is neither. */
export function normalizeZip(value: string): string | undefined {
  const m = /^(\d{5})(?:-?(\d{4}))?$/.exec(value);
  if (!m) return undefined;
  return m[2] ? `${m[1]}-${m[2]}` : m[1];
}

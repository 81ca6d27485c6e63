/**
 * File-name globs for `pattern` (one folder level, so `/` never appears): `*` any run of
 * characters, `?` one character, `[abc]` / `[a-z]` / `[!abc]` a class, `{csv,txt}` alternatives.
 * As in a shell, a wildcard does not match a leading dot: upload tools write hidden temporary
 * files (`.member.csv.part`), and those must not be picked up by `*`.
 */
const SPECIAL = /[.+^$()|\\]/;

function escapeChar(c: string): string {
  return SPECIAL.test(c) ? `\\${c}` : c;
}

/** Compiles a glob to an anchored RegExp; throws on an unclosed `[` or `{`. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  let braceDepth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new Error(`unclosed "[" in file pattern "${glob}"`);
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else if (c === '{') {
      braceDepth++;
      out += '(?:';
    } else if (c === '}' && braceDepth > 0) {
      braceDepth--;
      out += ')';
    } else if (c === ',' && braceDepth > 0) out += '|';
    else if (c === '\\' && i + 1 < glob.length) out += escapeChar(glob[++i] as string).replace(/^([*?[\]{}])$/, '\\$1');
    else out += escapeChar(c);
  }
  if (braceDepth > 0) throw new Error(`unclosed "{" in file pattern "${glob}"`);
  return new RegExp(`^${out}$`);
}

/** A matcher for one pattern; hidden names only match a pattern that itself starts with a dot. */
export function fileNameMatcher(glob: string): (name: string) => boolean {
  const re = globToRegExp(glob);
  const allowHidden = glob.startsWith('.');
  return (name) => (allowHidden || !name.startsWith('.')) && re.test(name);
}

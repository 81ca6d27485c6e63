/**
 * A readable difference between two JSON values: one line per differing path, `-` what was
 * expected and `+` what came out, so a failing golden test says which element changed instead of
 * printing two walls of JSON.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const show = (v: Json | undefined): string => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 200));

function walk(path: string, expected: Json | undefined, actual: Json | undefined, out: string[], max: number): void {
  if (out.length >= max) return;
  if (JSON.stringify(expected) === JSON.stringify(actual)) return;
  const bothObjects = typeof expected === 'object' && expected !== null && typeof actual === 'object' && actual !== null;
  if (bothObjects && Array.isArray(expected) === Array.isArray(actual)) {
    if (Array.isArray(expected) && Array.isArray(actual)) {
      for (let i = 0; i < Math.max(expected.length, actual.length); i++) walk(`${path}[${i}]`, expected[i], actual[i], out, max);
    } else {
      const e = expected as Record<string, Json>;
      const a = actual as Record<string, Json>;
      for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) walk(path ? `${path}.${key}` : key, e[key], a[key], out, max);
    }
    return;
  }
  out.push(`  ${path || '(root)'}:`, `    - ${show(expected)}`, `    + ${show(actual)}`);
}

/** Lines describing the differences (empty when equal), at most `maxPaths` paths. */
export function jsonDiff(expected: unknown, actual: unknown, maxPaths = 20): string[] {
  const out: string[] = [];
  walk('', expected as Json, actual as Json, out, maxPaths * 3);
  return out;
}

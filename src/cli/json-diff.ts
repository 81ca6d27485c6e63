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
      const byKey = entriesByKey(expected, actual);
      if (byKey) {
        for (const [key, [e, a]] of byKey) walk(`${path}[${key}]`, e, a, out, max);
        return;
      }
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

/**
 * Bundle entries paired by resource (`Patient/<id>`, else fullUrl) rather than by position, so one
 * resource added or dropped shows as that resource, not as every later entry changed. Undefined
 * when the arrays are not entry lists or their keys are not unique.
 */
function entriesByKey(expected: Json[], actual: Json[]): Map<string, [Json | undefined, Json | undefined]> | undefined {
  const keyOf = (item: Json): string | undefined => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
    const resource = item.resource;
    if (
      typeof resource === 'object' &&
      resource !== null &&
      !Array.isArray(resource) &&
      typeof resource.resourceType === 'string' &&
      typeof resource.id === 'string'
    ) {
      return `${resource.resourceType}/${resource.id}`;
    }
    return typeof item.fullUrl === 'string' ? item.fullUrl : undefined;
  };
  const pairs = new Map<string, [Json | undefined, Json | undefined]>();
  for (const [side, list] of [expected, actual].entries()) {
    for (const item of list) {
      const key = keyOf(item);
      if (key === undefined) return undefined;
      const pair = pairs.get(key) ?? [undefined, undefined];
      if (pair[side] !== undefined) return undefined;
      pair[side] = item;
      pairs.set(key, pair);
    }
  }
  return pairs;
}

/** Lines describing the differences (empty when equal), at most `maxPaths` paths. */
export function jsonDiff(expected: unknown, actual: unknown, maxPaths = 20): string[] {
  const out: string[] = [];
  walk('', expected as Json, actual as Json, out, maxPaths * 3);
  return out;
}

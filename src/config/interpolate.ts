/**
 * `${NAME}` and `${NAME:-default}` in string values, so secrets and per-host settings come from
 * the environment instead of the file. `:-` uses the default when the variable is unset or empty
 * (as in the shell); `$${` writes a literal `${`. Keys are never interpolated. Problems name the
 * key and the variable, never a value.
 */
import { formatKeyPath, type ConfigIssue, type KeyPath } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME_AND_DEFAULT = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

function interpolateString(value: string, env: Env, path: KeyPath, issues: ConfigIssue[]): string {
  if (!value.includes('${')) return value;
  return value.replace(REFERENCE, (whole, inner: string | undefined) => {
    if (whole === '$${') return '${';
    const parsed = inner === undefined ? null : NAME_AND_DEFAULT.exec(inner);
    if (!parsed) {
      issues.push({ key: formatKeyPath(path), problem: 'malformed ${...} reference (use ${NAME} or ${NAME:-default}; $${ for a literal)' });
      return whole;
    }
    const [, name, fallback] = parsed;
    const set = env[name];
    if (fallback !== undefined) return set === undefined || set === '' ? fallback : set;
    if (set === undefined) {
      issues.push({ key: formatKeyPath(path), problem: `environment variable ${name} is not set (or give a default: \${${name}:-...})` });
      return '';
    }
    return set;
  });
}

/** Returns a copy of `doc` with every string value interpolated, plus the problems found. */
export function interpolateEnv(doc: unknown, env: Env): { value: unknown; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') return interpolateString(node, env, path, issues);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, [...path, k]);
      return out;
    }
    return node;
  };
  return { value: walk(doc, []), issues };
}

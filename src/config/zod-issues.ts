/**
 * Turns zod issues into `key: problem` pairs an integrator can act on. Zod's own wording is
 * replaced where it speaks TypeScript ("expected object, received number"); values are never
 * included, because the value may be a secret.
 */
import type { z } from 'zod';
import { formatKeyPath, type ConfigIssue } from './errors.js';

const NOUNS: Record<string, string> = {
  object: 'a mapping (key: value)',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  record: 'a mapping (key: value)',
};

/** Per-parse error map: lower precedence than the messages written into the schemas. */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') return `must be ${NOUNS[issue.expected] ?? issue.expected}`;
  if (issue.code === 'too_small' && issue.origin === 'array')
    return `must have at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`;
  if (issue.code === 'invalid_key') return 'is not a valid key';
  return undefined;
};

function valueAt(doc: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node = doc;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

/** `doc` is what was validated; it tells a missing key from a wrong one. */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[], doc: unknown): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ key: formatKeyPath([...path, key]), problem: 'unknown key' });
      continue;
    }
    if (issue.code === 'invalid_key') {
      // A bad key of a mapping (e.g. a partner id): the key itself is the problem.
      out.push({ key: formatKeyPath(path), problem: `is not a valid key: ${issue.issues[0]?.message ?? 'invalid'}` });
      continue;
    }
    const missing =
      valueAt(doc, path) === undefined &&
      (issue.code === 'invalid_type' || issue.code === 'invalid_union' || issue.code === 'invalid_value');
    const problem = missing ? (issue.code === 'invalid_type' ? 'is required' : `is required; ${issue.message}`) : issue.message;
    out.push({ key: formatKeyPath(path), problem });
  }
  return out;
}

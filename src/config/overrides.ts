/**
 * Environment variables that win over the file, for the settings that differ per deployment
 * (containers, CI). An empty variable counts as unset.
 */
import { formatKeyPath } from './errors.js';
import type { Env } from './interpolate.js';

export const ENV_OVERRIDES = [
  { env: 'CAREBRIDGE_STORE_URL', path: ['store', 'url'] },
  { env: 'CAREBRIDGE_REDIS_URL', path: ['redis', 'url'] },
  { env: 'CAREBRIDGE_HTTP_PORT', path: ['server', 'http', 'port'] },
  { env: 'CAREBRIDGE_LOG_LEVEL', path: ['server', 'logLevel'] },
  { env: 'CAREBRIDGE_DATA_DIR', path: ['dataDir'] },
] as const;

/**
 * Writes the overrides into `doc` (a plain object from YAML) in place. Returns which keys were
 * overridden (formatted key -> variable name), so errors and path resolution can tell.
 */
export function applyEnvOverrides(doc: Record<string, unknown>, env: Env): Map<string, string> {
  const applied = new Map<string, string>();
  for (const { env: name, path } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let node: Record<string, unknown> = doc;
    let reachable = true;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (next === undefined || next === null) node[part] = {};
      else if (typeof next !== 'object' || Array.isArray(next)) {
        // The file itself is wrong here; leave it for validation to report.
        reachable = false;
        break;
      }
      node = node[part] as Record<string, unknown>;
    }
    if (!reachable) continue;
    node[path[path.length - 1]] = value;
    applied.set(formatKeyPath(path), name);
  }
  return applied;
}

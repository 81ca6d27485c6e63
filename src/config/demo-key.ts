/**
 * The demo's admin key is public (config/demo.yaml prints it), so a deployment whose config holds
 * its hash accepts anyone as administrator. Outside the demo that is refused at start, unless the
 * HTTP API listens on loopback only, where it is a warning (a developer's copy of the demo).
 */
import { isIP } from 'node:net';
import { defaultConfigFile } from './load-config.js';
import { verifyApiKeyAsync } from './api-keys.js';
import type { GatewayConfig } from './types.js';

export const DEMO_ADMIN_KEY = 'carebridge-demo-admin-key';

export type DemoKeyVerdict = { kind: 'none'; message?: undefined } | { kind: 'warn' | 'refuse'; message: string };

/** 127.0.0.0/8, ::1 and localhost: nobody else can reach the listener. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

export async function demoKeyExposure(config: GatewayConfig): Promise<DemoKeyVerdict> {
  if (config.configFile === defaultConfigFile()) return { kind: 'none' };
  // Every key is checked against the plain demo key, so a re-salted hash of it is found too.
  const matches = await Promise.all(config.apiKeys.map((k) => verifyApiKeyAsync(DEMO_ADMIN_KEY, k.hash)));
  const i = matches.indexOf(true);
  if (i === -1) return { kind: 'none' };
  const key = config.apiKeys[i];
  const what = `apiKeys[${i}].hash (${key.id}) is the hash of the public demo key '${DEMO_ADMIN_KEY}'`;
  const fix = 'replace it with the hash of a key of your own (printf \'%s\' "$KEY" | node scripts/hash-api-key.mjs)';
  if (isLoopbackHost(config.server.http.host)) {
    return { kind: 'warn', message: `${what}; accepted only because the HTTP API listens on loopback (${config.server.http.host}); ${fix}` };
  }
  return { kind: 'refuse', message: `${what} and the HTTP API listens on ${config.server.http.host}: anyone could act as administrator; ${fix}` };
}

/**
 * The demo's keys are public (README and config/demo.yaml print them), so a deployment whose config
 * holds one of their hashes accepts anyone as that key's administrator, operator or care team. Outside the demo that is refused at start, unless the
 * HTTP API listens on loopback only, where it is a warning (a developer's copy of the demo).
 */
import { isIP } from 'node:net';
import { defaultConfigFile } from './load-config.js';
import { verifyApiKeyAsync } from './api-keys.js';
import type { GatewayConfig } from './types.js';

export const DEMO_ADMIN_KEY = 'carebridge-demo-admin-key';
/** Every key the demo publishes: its administrator, operator and a CP's care team. */
export const DEMO_KEYS = [DEMO_ADMIN_KEY, 'carebridge-demo-operator-key', 'carebridge-demo-cp-key'] as const;

export type DemoKeyVerdict = { kind: 'none'; message?: undefined } | { kind: 'warn' | 'refuse'; message: string };

/** 127.0.0.0/8, ::1 and localhost: nobody else can reach the listener. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

export async function demoKeyExposure(config: GatewayConfig): Promise<DemoKeyVerdict> {
  if (config.configFile === defaultConfigFile()) return { kind: 'none' };
  // Every key is checked against each plain demo key, so a re-salted hash of one is found too.
  const matches = await Promise.all(
    config.apiKeys.map(async (k) => {
      for (const demo of DEMO_KEYS) if (await verifyApiKeyAsync(demo, k.hash)) return demo;
      return undefined;
    }),
  );
  const i = matches.findIndex((m) => m !== undefined);
  if (i === -1) return { kind: 'none' };
  const key = config.apiKeys[i];
  const what = `apiKeys[${i}].hash (${key.id}) is the hash of the public demo key '${matches[i]}'`;
  const fix = 'replace it with the hash of a key of your own (printf \'%s\' "$KEY" | npx carebridge hash-key)';
  if (isLoopbackHost(config.server.http.host)) {
    return {
      kind: 'warn',
      message: `${what}; accepted only because the HTTP API listens on loopback (${config.server.http.host}); ${fix}`,
    };
  }
  return { kind: 'refuse', message: `${what} and the HTTP API listens on ${config.server.http.host}: anyone could use it; ${fix}` };
}

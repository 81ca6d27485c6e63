/**
 * Issue 11.9: the public demo admin key must not open a real deployment. The reference config
 * carries a placeholder; a config other than the demo that holds the demo key's hash stops the
 * start, unless the HTTP listener is loopback-only (then a warning).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashApiKey, loadConfig } from '../../../src/config/index.js';
import { demoKeyExposure, DEMO_ADMIN_KEY, DEMO_KEYS } from '../../../src/config/demo-key.js';
import type { GatewayConfig } from '../../../src/config/types.js';
import { startGateway } from '../../../src/gateway/gateway.js';
import { silentLog } from '../../../src/observability/log.js';
import { packageRoot } from '../../../src/util/package-root.js';
import { TEST_ADMIN_HASH, writeTestConfig } from '../../helpers/gateway.js';

const root = packageRoot();

function configWith(host: string, hash: string): GatewayConfig {
  const { file } = writeTestConfig({ webhookUrl: 'http://127.0.0.1:9/hook', webhookSecret: 'hook-secret-0123456789' });
  const config = loadConfig(file);
  return {
    ...config,
    server: { ...config.server, http: { ...config.server.http, host } },
    apiKeys: [{ id: 'ops', hash, partners: ['*'] }],
  };
}

describe('the public demo key (issue 11.9)', () => {
  it('config/example.yaml does not carry the demo key hash', () => {
    const example = readFileSync(join(root, 'config', 'example.yaml'), 'utf8');
    expect(example).not.toContain(TEST_ADMIN_HASH);
    expect(example).not.toContain(TEST_ADMIN_HASH.split(':')[2]);
  });

  it('refuses a non-demo config holding the demo key when HTTP listens beyond loopback', async () => {
    const verdict = await demoKeyExposure(configWith('0.0.0.0', TEST_ADMIN_HASH));
    expect(verdict.kind).toBe('refuse');
    expect(verdict.message).toMatch(/apiKeys\[0\]\.hash \(ops\) is the hash of the public demo key/);
    // Whatever salt it was hashed with.
    expect((await demoKeyExposure(configWith('10.1.2.3', hashApiKey(DEMO_ADMIN_KEY)))).kind).toBe('refuse');
    await expect(startGateway(configWith('0.0.0.0', TEST_ADMIN_HASH), silentLog)).rejects.toThrow(/public demo key/);
  });

  it('refuses the demo operator and care-team keys the same way', async () => {
    for (const key of DEMO_KEYS.filter((k) => k !== DEMO_ADMIN_KEY)) {
      const verdict = await demoKeyExposure(configWith('0.0.0.0', hashApiKey(key)));
      expect(verdict.kind).toBe('refuse');
      expect(verdict.message).toContain(`public demo key '${key}'`);
    }
  });

  it('only warns when the HTTP listener is loopback-only', async () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) {
      const verdict = await demoKeyExposure(configWith(host, TEST_ADMIN_HASH));
      expect(verdict.kind).toBe('warn');
      expect(verdict.message).toMatch(/public demo key/);
    }
  });

  it('the demo itself and configs with other keys pass quietly', async () => {
    expect((await demoKeyExposure(loadConfig(undefined, {}))).kind).toBe('none');
    expect((await demoKeyExposure(configWith('0.0.0.0', hashApiKey('an-operator-chosen-key-0123456789')))).kind).toBe('none');
  });
});

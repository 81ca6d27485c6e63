import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seedPastMemberFile, startTestGateway, TEST_ADMIN_KEY } from '../../helpers/gateway.js';

// A partner's daily member file was due while the gateway was down: after the restart the source
// still shows the file missing, because the last arrival comes from the roster's imports.
describe('expected daily file across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cb-daily-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function sourceStatus(expectedDaily: Record<string, string>) {
    const drop = join(dataDir, 'drop');
    mkdirSync(drop, { recursive: true });
    const gw = await startTestGateway({
      webhookUrl: 'http://127.0.0.1:9/hook',
      webhookSecret: 'hook-secret-0123456789',
      dataDir,
      extra: {
        sources: [
          {
            id: 'aco-drop',
            type: 'directory',
            partner: 'example-aco',
            path: drop,
            format: 'member-csv',
            poll: { intervalSeconds: 3600 },
            expectedDaily,
          },
        ],
      },
    });
    try {
      const res = await fetch(`http://127.0.0.1:${gw.gateway.ports.http}/api/sources/files`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: Array<{ sourceId: string; missingSince: string | null; lastFileAt: string | null }> };
      return body.items.find((s) => s.sourceId === 'aco-drop')!;
    } finally {
      await gw.stop();
    }
  }

  it('reports a missing file at start when the last one arrived days ago', async () => {
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    await seedPastMemberFile(dataDir, 'example-aco', 'aco-drop', threeDaysAgo);

    const status = await sourceStatus({ by: '00:01', timeZone: 'UTC' });
    expect(status.lastFileAt).toBe(threeDaysAgo.toISOString());
    expect(status.missingSince).not.toBeNull();
    expect(Date.parse(status.missingSince!)).toBeGreaterThan(threeDaysAgo.getTime());
    expect(Date.parse(status.missingSince!)).toBeLessThan(Date.now());
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_ADMIN_HASH, TEST_ADMIN_KEY } from '../../helpers/gateway.js';
import { hashApiKey } from '../../../src/config/api-keys.js';

// POST /api/roster/imports: the same upload as `carebridge import-members`, inside the gateway.
const ROOT = join(import.meta.dirname, '../../..');
const members = readFileSync(join(ROOT, 'mappings/partners/example-aco/tests/members.txt'));
const CP_KEY = 'example-cp-key-0123456789';

let gw: Awaited<ReturnType<typeof startTestGateway>>;
let base = '';
beforeAll(async () => {
  gw = await startTestGateway({
    webhookUrl: 'http://127.0.0.1:9/hook',
    webhookSecret: 's',
    extra: {
      partners: {
        'example-aco': { name: 'Example ACO', kind: 'aco', profile: 'example-aco', senders: ['EPICADT^MGH'] },
        'example-cp': { name: 'Example CP', kind: 'cp' },
      },
      apiKeys: [
        { id: 'admin', hash: TEST_ADMIN_HASH, partners: ['*'] },
        { id: 'cp', hash: hashApiKey(CP_KEY), partners: ['example-cp'] },
      ],
    },
  });
  base = `http://127.0.0.1:${gw.gateway.ports.http}`;
});
afterAll(() => gw?.stop());

const post = (query: string, body: Buffer | string, key = TEST_ADMIN_KEY) =>
  fetch(`${base}/api/roster/imports?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
    body,
  });

describe('POST /api/roster/imports', () => {
  it('dryRun answers the diff with row errors and line numbers and applies nothing; then the upload applies', async () => {
    const dry = await post('partner=example-aco&fileName=members.txt&dryRun=true', members);
    expect(dry.status).toBe(200);
    const report = (await dry.json()) as { issues: unknown[]; changes: Array<{ memberId: string }> };
    expect(report).toMatchObject({ status: 'dry-run', importId: null, rows: 3, added: 2, errors: 1 });
    expect(report.issues).toEqual([{ line: 4, kind: 'error', reason: expect.stringMatching(/DOB/) }]);
    expect(report.changes.map((c: { memberId: string }) => c.memberId).sort()).toEqual(['MA900000001', 'MA900000002']);
    const none = await fetch(`${base}/api/roster/members/MA900000001`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    expect(none.status).toBe(404);

    const applied = await post('partner=example-aco&fileName=members.txt', members);
    expect(applied.status).toBe(200);
    expect((await applied.json()) as object).toMatchObject({ status: 'applied', importId: expect.any(String), added: 2, errors: 1 });
    const member = await fetch(`${base}/api/roster/members/MA900000001`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    expect(member.status).toBe(200);
    expect(((await post('partner=example-aco&fileName=members.txt', members).then((r) => r.json())) as { status: string }).status).toBe(
      'duplicate',
    );
  });

  it('refuses a key of another partner (403), an unknown partner (400), an empty body (400); documents itself in OpenAPI', async () => {
    expect((await post('partner=example-aco&fileName=x.txt', members, CP_KEY)).status).toBe(403);
    expect((await post('partner=nobody&fileName=x.txt', members)).status).toBe(400);
    expect((await post('partner=example-aco&fileName=x.txt', '')).status).toBe(400);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, { post: { summary: string } }> };
    expect(doc.paths['/api/roster/imports'].post.summary).toMatch(/Import a member/);
  });
});

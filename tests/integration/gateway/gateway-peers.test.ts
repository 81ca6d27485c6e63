/**
 * The running gateway with real third-party MLLP senders: @medplum/hl7 4.5.2 `Hl7Client` and
 * Debian python3-hl7's `mllp_send`. Each message is ACKed after it is stored and reaches the
 * webhook destination.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Hl7Message as MedplumMessage } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adtMessage, eventually, startTestGateway } from '../../helpers/gateway.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';

const run = promisify(execFile);
const MLLP_SEND = '/usr/bin/mllp_send';
const SECRET = 'peers-secret-0123456789';

describe('gateway with real MLLP peers', () => {
  let hook: WebhookStub;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let tmp: string;
  beforeAll(async () => {
    hook = await startWebhookStub({ secret: SECRET });
    gw = await startTestGateway({ webhookUrl: hook.url, webhookSecret: SECRET });
    tmp = mkdtempSync(join(tmpdir(), 'cb-peers-'));
  });
  afterAll(async () => {
    await gw?.stop();
    await hook?.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  const deliveredIds = () => hook.accepted.map((d) => (d.body as { identifier?: { value?: string } }).identifier?.value ?? '');

  it('@medplum/hl7 Hl7Client gets AA for each message, and each is delivered', async () => {
    const client = new Hl7Client({ host: '127.0.0.1', port: gw.gateway.ports['mllp-in'], keepAlive: true });
    try {
      for (const id of ['MEDPLUM-1', 'MEDPLUM-2']) {
        const ack = await client.sendAndWait(MedplumMessage.parse(adtMessage(id)), { timeoutMs: 10_000 });
        expect(ack.getSegment('MSA')?.getField(1)?.toString()).toBe('AA');
        expect(ack.getSegment('MSA')?.getField(2)?.toString()).toBe(id);
      }
    } finally {
      await client.close();
    }
    await eventually(() => ['MEDPLUM-1', 'MEDPLUM-2'].every((id) => deliveredIds().some((v) => v.endsWith(`|${id}`))));
  });

  it.skipIf(!existsSync(MLLP_SEND))('mllp_send (python3-hl7) sends a file; every ACK is AA and every message delivered', async () => {
    const ids = ['PYSEND-1', 'PYSEND-2', 'PYSEND-3'];
    const file = join(tmp, 'adt.hl7');
    writeFileSync(file, ids.map((id) => adtMessage(id).replace(/\r/g, '\n')).join('\n'));
    const { stdout } = await run(MLLP_SEND, ['--loose', '-p', String(gw.gateway.ports['mllp-in']), '-f', file, '127.0.0.1'], {
      timeout: 30_000,
    });
    for (const id of ids) expect(stdout).toContain(`MSA|AA|${id}`);
    await eventually(() => ids.every((id) => deliveredIds().some((v) => v.endsWith(`|${id}`))));
  });
});

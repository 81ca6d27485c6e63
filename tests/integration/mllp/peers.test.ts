/**
 * Real third-party MLLP peers against our server: @medplum/hl7's Hl7Client (Node) and Debian
 * python3-hl7's `mllp_send` command line tool.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../src/mllp/codec.js';
import { createMllpServer, type MllpServer } from '../../../src/mllp/server.js';
import { buildTestAck, controlIdOf, sampleMessage } from './helpers.js';

const run = promisify(execFile);
const MLLP_SEND = '/usr/bin/mllp_send';

const servers: MllpServer[] = [];
const tempDirs: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ drainTimeoutMs: 1_000 })));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startRecordingServer(): Promise<{ server: MllpServer; received: string[] }> {
  const received: string[] = [];
  const server = createMllpServer({
    handler: async (m) => {
      received.push(m.toString('latin1'));
      return buildTestAck(m);
    },
  });
  servers.push(server);
  await server.listen();
  return { server, received };
}

function tempFile(name: string, content: Buffer | string): string {
  const dir = mkdtempSync(join(tmpdir(), 'carebridge-mllp-'));
  tempDirs.push(dir);
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

describe('@medplum/hl7 Hl7Client as the sender', () => {
  it('sends messages over one connection and gets matching ACKs', async () => {
    const { server, received } = await startRecordingServer();
    const client = new Hl7Client({ host: '127.0.0.1', port: server.port, keepAlive: true });
    try {
      for (const id of ['MP1', 'MP2', 'MP3']) {
        const ack = await client.sendAndWait(Hl7Message.parse(sampleMessage(id)), { timeoutMs: 10_000 });
        expect(ack.getSegment('MSA')?.getField(1)?.toString()).toBe('AA');
        expect(ack.getSegment('MSA')?.getField(2)?.toString()).toBe(id);
      }
    } finally {
      await client.close();
    }
    expect(received.map(controlIdOf)).toEqual(['MP1', 'MP2', 'MP3']);
    expect(received[0]).toBe(sampleMessage('MP1')); // medplum joins segments with CR, like ours
    expect(server.stats().acceptedConnections).toBe(1);
  });
});

describe.skipIf(!existsSync(MLLP_SEND))('python3-hl7 mllp_send as the sender', () => {
  it('sends a file of MLLP-framed messages and prints one ACK per message', async () => {
    const { server, received } = await startRecordingServer();
    const ids = ['PY1', 'PY2', 'PY3', 'PY4'];
    const file = tempFile('batch.mllp', Buffer.concat(ids.map((id) => encodeFrame(Buffer.from(sampleMessage(id))))));
    const { stdout } = await run(MLLP_SEND, ['-p', String(server.port), '-f', file, '127.0.0.1'], { timeout: 20_000 });
    expect(received.map(controlIdOf)).toEqual(ids);
    for (const id of ids) expect(stdout).toContain(`MSA|AA|${id}`);
  });

  it('sends a plain-text file with LF line endings in --loose mode', async () => {
    const { server, received } = await startRecordingServer();
    const ids = ['LOOSE1', 'LOOSE2'];
    const text = ids.map((id) => sampleMessage(id).replace(/\r/g, '\n')).join('\n\n') + '\n';
    const file = tempFile('messages.hl7', text);
    const { stdout } = await run(MLLP_SEND, ['--loose', '-p', String(server.port), '-f', file, '127.0.0.1'], {
      timeout: 20_000,
    });
    expect(received.map(controlIdOf)).toEqual(ids);
    expect(received[0]).toBe(sampleMessage('LOOSE1')); // mllp_send rewrote LF to CR
    for (const id of ids) expect(stdout).toContain(`MSA|AA|${id}`);
  });
});

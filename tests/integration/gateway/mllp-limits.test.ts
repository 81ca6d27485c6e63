/**
 * Issue 11.2 through the gateway: the MLLP source's frameTimeoutMs and maxConnectionsPerAddress
 * come from the config; a connection the gateway closes or refuses gets a log line and a metric.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../../../src/config/index.js';
import { startGateway, type Gateway } from '../../../src/gateway/gateway.js';
import { START_BLOCK } from '../../../src/mllp/codec.js';
import { writeTestConfig } from '../../helpers/gateway.js';
import { RawMllpPeer, waitFor } from '../mllp/helpers.js';

describe('MLLP source limits in the gateway (issue 11.2)', () => {
  const lines: { msg: string; reason?: string; source?: string }[] = [];
  let gateway: Gateway;
  let port: number;
  beforeAll(async () => {
    const { file } = writeTestConfig({
      webhookUrl: 'http://127.0.0.1:9/hook',
      webhookSecret: 'hook-secret-0123456789',
      extra: {
        sources: [
          { id: 'mllp-in', type: 'mllp', host: '127.0.0.1', port: 0, frameTimeoutMs: 300, maxConnectionsPerAddress: 1 },
          { id: 'http-in', type: 'http' },
        ],
      },
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    });
    gateway = await startGateway(loadConfig(file), pino({ level: 'info' }, sink));
    port = gateway.ports['mllp-in'];
  });
  afterAll(async () => {
    await gateway?.close();
  });

  const metric = async (name: string, reason: string) => {
    const line = (await gateway.metrics.metrics())
      .split('\n')
      .find((l) => l.startsWith(name) && l.includes('source="mllp-in"') && l.includes(`reason="${reason}"`));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('closes a frame that does not end in time, with a warning and a metric; a second connection from the same address is refused meanwhile', async () => {
    const slow = await RawMllpPeer.connect(port);
    await slow.write(Buffer.concat([Buffer.from([START_BLOCK]), Buffer.from('MSH|^~\\&|', 'latin1')]));
    const second = await RawMllpPeer.connect(port);
    await second.closed;
    expect(await metric('carebridge_mllp_connections_rejected_total', 'max-connections-per-address')).toBe(1);
    await slow.closed;
    await waitFor(() => lines.some((l) => l.reason === 'frame-timeout'));
    expect(lines.find((l) => l.reason === 'frame-timeout')).toMatchObject({
      msg: 'MLLP connection closed by the gateway',
      source: 'mllp-in',
    });
    expect(lines.find((l) => l.reason === 'max-connections-per-address')).toMatchObject({
      msg: 'MLLP connection refused',
      source: 'mllp-in',
    });
    expect(await metric('carebridge_mllp_connections_closed_total', 'frame-timeout')).toBe(1);
  });
});

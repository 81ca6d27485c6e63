/** Issue 11.10: a port already in use is named by its config key and number. */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { startGateway } from '../../../src/gateway/gateway.js';
import { silentLog } from '../../../src/observability/log.js';
import { writeTestConfig } from '../../helpers/gateway.js';

describe('a port already in use (issue 11.10)', () => {
  let taken: net.Server;
  let port: number;
  beforeAll(async () => {
    taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    port = (taken.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => taken.close(() => r())));

  const config = (extra: Record<string, unknown>) =>
    loadConfig(writeTestConfig({ webhookUrl: 'http://127.0.0.1:9/hook', webhookSecret: 'hook-secret-0123456789', extra }).file);

  it('names server.http.port', async () => {
    const c = config({ server: { http: { host: '127.0.0.1', port }, logLevel: 'silent', shutdownTimeoutMs: 1000 } });
    await expect(startGateway(c, silentLog)).rejects.toThrow(`server.http.port: port ${port} on 127.0.0.1 is already in use`);
  });

  it("names the MLLP source's port key", async () => {
    const c = config({
      sources: [
        { id: 'http-in', type: 'http' },
        { id: 'adt-in', type: 'mllp', host: '127.0.0.1', port },
      ],
    });
    await expect(startGateway(c, silentLog)).rejects.toThrow(`sources[1].port (adt-in): port ${port} on 127.0.0.1 is already in use`);
  });
});

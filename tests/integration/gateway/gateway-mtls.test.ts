/**
 * Per-partner mutual TLS on the gateway's MLLP listeners: a listener accepts only client
 * certificates signed by its CA, and only the certificate names it lists.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { MllpClient } from '../../../src/mllp/client.js';
import { adtMessage, startTestGateway } from '../../helpers/gateway.js';
import { generateTestPki, type TestPki } from '../../helpers/tls-certs.js';
import { startWebhookStub, type WebhookStub } from '../../helpers/webhook-stub.js';

const SECRET = 'mtls-secret-0123456789';

describe('gateway MLLP listeners with mutual TLS and allowed certificate names', () => {
  let pki: TestPki;
  let hook: WebhookStub;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  beforeAll(async () => {
    pki = generateTestPki('partner-acme');
    const file = (name: string, pem: string) => {
      const p = join(pki.dir, name);
      writeFileSync(p, pem);
      return p;
    };
    const tls = (allowed: string[]) => ({
      key: file('server.key', pki.server.key),
      cert: file('server.crt', pki.server.cert),
      ca: file('ca.crt', pki.ca),
      requestClientCert: true,
      allowedClientCNs: allowed,
    });
    hook = await startWebhookStub({ secret: SECRET });
    gw = await startTestGateway({
      webhookUrl: hook.url,
      webhookSecret: SECRET,
      extra: {
        sources: [
          { id: 'acme-tls', type: 'mllp', host: '127.0.0.1', port: 0, tls: tls(['partner-acme']) },
          { id: 'other-tls', type: 'mllp', host: '127.0.0.1', port: 0, tls: tls(['partner-other']) },
        ],
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await hook?.close();
    pki?.cleanup();
  });

  const client = (port: number, cert: { cert: string; key: string }) =>
    new MllpClient({
      host: '127.0.0.1',
      port,
      tls: { ca: pki.ca, cert: cert.cert, key: cert.key, servername: 'localhost' },
      ackTimeoutMs: 5_000,
      connectTimeoutMs: 5_000,
    });

  it('accepts the partner whose certificate name is listed', async () => {
    const c = client(gw.gateway.ports['acme-tls'], pki.client);
    try {
      expect(Hl7Message.parse(await c.send(Buffer.from(adtMessage('TLS-1')))).get('MSA-1')).toBe('AA');
    } finally {
      await c.close();
    }
  });

  it('rejects (AR) a trusted certificate whose name the listener does not list, and stores nothing', async () => {
    const c = client(gw.gateway.ports['other-tls'], pki.client);
    try {
      const ack = Hl7Message.parse(await c.send(Buffer.from(adtMessage('TLS-2'))));
      expect(ack.get('MSA-1')).toBe('AR');
    } finally {
      await c.close();
    }
    expect((await gw.gateway.store.searchMessages({ controlId: 'TLS-2' })).items).toEqual([]);
  });

  it('refuses a certificate from another CA at the handshake', async () => {
    const c = client(gw.gateway.ports['acme-tls'], pki.untrustedClient);
    await expect(c.send(Buffer.from(adtMessage('TLS-3')))).rejects.toThrow();
    await c.close();
  });
});

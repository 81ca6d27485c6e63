import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import { startGateway, type Gateway } from '../../src/gateway/gateway.js';
import { silentLog } from '../../src/observability/log.js';

export const TEST_ADMIN_KEY = 'carebridge-demo-admin-key';
/** scrypt hash of TEST_ADMIN_KEY (the demo key, documented in config/demo.yaml). */
export const TEST_ADMIN_HASH = 'scrypt:b6fyPcviLCcez4CEHmQYYw==:YPQUetOYkuzE0K8j4uoEdpWlkLsqZKU935KCMTJ+QSU=';

export interface TestGatewayOptions {
  webhookUrl: string;
  webhookSecret: string;
  /** Extra config merged at the top level (e.g. destinations, routes). */
  extra?: Record<string, unknown>;
  dataDir?: string;
  redisUrl?: string;
}

/** Writes a gateway config for tests (free ports, temp data dir) and returns its path. */
export function writeTestConfig(opts: TestGatewayOptions): { file: string; dataDir: string } {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'cb-gw-'));
  const config = {
    server: {
      http: { host: '127.0.0.1', port: 0, rateLimit: { max: 100000, timeWindowMs: 1000 } },
      logLevel: 'silent',
      shutdownTimeoutMs: 5000,
    },
    dataDir,
    ...(opts.redisUrl ? { redis: { url: opts.redisUrl } } : {}),
    partners: { 'example-aco': { name: 'Example ACO', kind: 'aco', profile: 'example-aco', senders: ['EPICADT^MGH'] } },
    sources: [
      { id: 'mllp-in', type: 'mllp', host: '127.0.0.1', port: 0 },
      { id: 'http-in', type: 'http' },
    ],
    destinations: [
      {
        id: 'hook',
        type: 'webhook',
        url: opts.webhookUrl,
        secret: opts.webhookSecret,
        maxAttempts: 5,
        backoff: { baseMs: 50, maxMs: 200 },
        concurrency: 8,
      },
    ],
    routes: [{ id: 'all-adt', match: { events: ['A01', 'A02', 'A03', 'A04', 'A08', 'A40'] }, to: ['hook'] }],
    apiKeys: [{ id: 'admin', hash: TEST_ADMIN_HASH, partners: ['*'] }],
    ...opts.extra,
  };
  const file = join(dataDir, 'gateway.yaml');
  writeFileSync(file, stringify(config));
  return { file, dataDir };
}

export async function startTestGateway(opts: TestGatewayOptions): Promise<{ gateway: Gateway; dataDir: string; stop(): Promise<void> }> {
  const { file, dataDir } = writeTestConfig(opts);
  const gateway = await startGateway(loadConfig(file), silentLog);
  return {
    gateway,
    dataDir,
    stop: async () => {
      await gateway.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until the predicate holds (no timing assertions: only a generous upper bound). */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A synthetic ADT message with a given control id and patient. */
export function adtMessage(
  controlId: string,
  opts: { event?: string; mrn?: string; ackMode?: 'original' | 'enhanced-al' | 'enhanced-ne' } = {},
): string {
  const event = opts.event ?? 'A01';
  const mode = opts.ackMode === 'enhanced-al' ? '|||AL|NE' : opts.ackMode === 'enhanced-ne' ? '|||NE|NE' : '';
  return (
    [
      `MSH|^~\\&|EPICADT|MGH|CAREBRIDGE|CP|20240501083000-0400||ADT^${event}^ADT_A01|${controlId}|P|2.5.1${mode}`,
      `EVN|${event}|20240501083000`,
      `PID|1||${opts.mrn ?? 'MRN' + controlId}^^^MGH^MR||DOE^JANE||19800101|F`,
      `PV1|1|I|4N^401^A^MGH|||||||||||||||VN${controlId}^^^MGH^VN|||||||||||||||||||||||||20240501080000`,
    ].join('\r') + '\r'
  );
}

/**
 * Records in a test gateway's (not yet started) database that `sourceId` of `partnerId` delivered
 * an (empty) member file at `receivedAt`: the history a restart reads its last daily file from.
 */
export async function seedPastMemberFile(dataDir: string, partnerId: string, sourceId: string, receivedAt: Date): Promise<void> {
  const { openRosterStore } = await import('../../src/roster/roster-store.js');
  const roster = await openRosterStore(`sqlite:${join(dataDir, 'carebridge.db')}`);
  try {
    await roster.importMemberFile({
      partnerId,
      sourceId,
      fileName: `members-${receivedAt.getTime()}.txt`,
      sha256: 'cd'.repeat(32),
      items: (async function* () {})(),
      receivedAt,
    });
  } finally {
    await roster.close();
  }
}

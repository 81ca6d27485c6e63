// Shared test wiring for the API: a parsed config, a real in-memory SQLite store seeded through its
// own API, a scriptable fake IngestPort, and buildApi around them.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../../src/api/app.js';
import type { FhirIngestResult, Hl7IngestResult, IngestPort } from '../../../src/api/types.js';
import type { GatewayConfig } from '../../../src/config/types.js';
import { gatewayConfigSchema } from '../../../src/config/schema/gateway.js';
import { createMetrics, type CarebridgeMetrics, type QueueDepth } from '../../../src/observability/metrics.js';
import { silentLog, type Logger } from '../../../src/observability/log.js';
import { openStore } from '../../../src/store/open-store.js';
import type { InboundInput, MessageStore } from '../../../src/store/types.js';

export const KEYS = {
  admin: 'admin-key-0123456789abcdef',
  aco: 'aco-key-0123456789abcdef',
  cp: 'cp-key-0123456789abcdef',
  both: 'both-key-0123456789abcdef',
} as const;

// sha256 hashes keep tests fast; the scrypt path is covered by its own test.
const sha = (plain: string) => `sha256:${createHash('sha256').update(plain).digest('hex')}`;

export function makeConfig(overrides: Record<string, unknown> = {}): GatewayConfig {
  const parsed = gatewayConfigSchema.parse({
    partners: {
      'acme-aco': { name: 'Acme ACO', kind: 'aco', senders: ['EPIC^ACME'] },
      'bay-cp': { name: 'Bay CP', kind: 'cp' },
    },
    sources: [{ id: 'http-in', type: 'http' }],
    destinations: [
      { id: 'aco-hook', type: 'webhook', partner: 'acme-aco', url: 'http://127.0.0.1:9/aco', secret: 's' },
      { id: 'cp-hook', type: 'webhook', partner: 'bay-cp', url: 'http://127.0.0.1:9/cp', secret: 's' },
      { id: 'shared-hook', type: 'webhook', url: 'http://127.0.0.1:9/shared', secret: 's' },
    ],
    apiKeys: [
      { id: 'admin', hash: sha(KEYS.admin), partners: ['*'] },
      { id: 'aco-key', hash: sha(KEYS.aco), partners: ['acme-aco'] },
      { id: 'cp-key', hash: sha(KEYS.cp), partners: ['bay-cp'] },
      { id: 'both-key', hash: sha(KEYS.both), partners: ['acme-aco', 'bay-cp'] },
    ],
    ...overrides,
  });
  return {
    ...parsed,
    configFile: '/nonexistent/carebridge.yaml',
    dataDir: '/nonexistent/data',
    store: { ...parsed.store, url: 'sqlite::memory:' },
    mappings: { dir: '/nonexistent/mappings' },
  } as GatewayConfig;
}

export interface Call {
  method: string;
  args: unknown[];
}

/** An IngestPort whose answers the test sets, recording every call. */
export class FakeIngest implements IngestPort {
  calls: Call[] = [];
  hl7Result: Hl7IngestResult = { ack: 'MSH|^~\\&|ACK\rMSA|AA|1\r', outcome: 'accepted', messageIds: ['m1'], httpStatus: 200 };
  fhirResult: FhirIngestResult = { outcome: 'accepted', messageId: 'm2', httpStatus: 201 };
  redis = true;
  depths: Record<string, QueueDepth> = { 'aco-hook': { waiting: 3, delayed: 1, active: 2, failed: 0 } };
  requeued: string[] = [];
  fail?: Error;

  constructor(private readonly store?: MessageStore) {}

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.fail) throw this.fail;
  }

  async receiveHl7(body: Buffer, meta: Parameters<IngestPort['receiveHl7']>[1]) {
    this.record('receiveHl7', body, meta);
    return this.hl7Result;
  }
  async receiveFhir(resource: unknown, meta: Parameters<IngestPort['receiveFhir']>[1]) {
    this.record('receiveFhir', resource, meta);
    return this.fhirResult;
  }
  async replay(messageId: string, actor: string) {
    this.record('replay', messageId, actor);
    // Like the real pipeline: the store makes the replay.
    if (this.store) return this.store.createReplay(messageId);
    return { id: 'replay-1', replayOf: messageId };
  }
  async requeueDead(target: { deliveryId: string } | { destination: string }, actor: string) {
    this.record('requeueDead', target, actor);
    if (this.store) return this.store.requeueDead('deliveryId' in target ? target.deliveryId : target);
    return this.requeued;
  }
  async redisUp() {
    this.record('redisUp');
    return this.redis;
  }
  async queueDepths() {
    this.record('queueDepths');
    if (!this.redis) throw new Error('redis down');
    return this.depths;
  }
}

export interface Harness {
  app: FastifyInstance;
  store: MessageStore;
  ingest: FakeIngest;
  metrics: CarebridgeMetrics;
  config: GatewayConfig;
  close(): Promise<void>;
}

export async function harness(
  options: { config?: GatewayConfig; log?: Logger; storeBackedIngest?: boolean; readyTimeoutMs?: number } = {},
): Promise<Harness> {
  const config = options.config ?? makeConfig();
  const store = await openStore('sqlite::memory:');
  const ingest = new FakeIngest(options.storeBackedIngest === false ? undefined : store);
  const metrics = createMetrics({ defaultMetrics: false });
  const app = buildApi({ config, store, ingest, log: options.log ?? silentLog, metrics, readyTimeoutMs: options.readyTimeoutMs });
  await app.ready();
  return {
    app,
    store,
    ingest,
    metrics,
    config,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

export const auth = (key: string) => ({ authorization: `Bearer ${key}` });

let seq = 0;

export function adt(controlId: string, event = 'A01'): string {
  return [`MSH|^~\\&|EPIC|ACME|CB|CB|20240101120000||ADT^${event}|${controlId}|P|2.5.1`, 'PID|1||MRN123^^^ACME^MR||DOE^JANE'].join('\r');
}

/** Stores a message the way the inbox would, then optionally completes it with deliveries. */
export async function seedMessage(
  store: MessageStore,
  input: Partial<InboundInput> & { controlId: string },
  deliveries: Array<{ destination: string; patientKey?: string }> = [],
): Promise<{ id: string; deliveryIds: string[] }> {
  seq += 1;
  const event = input.triggerEvent ?? 'A01';
  const [result] = await store.acceptInbound([
    {
      sourceKind: 'http',
      sourceName: 'http-in',
      sender: 'EPIC^ACME',
      messageType: 'ADT',
      triggerEvent: event,
      version: '2.5.1',
      dedupeKey: `test-${seq}-${input.controlId}`,
      raw: Buffer.from(adt(input.controlId, event)),
      ...input,
    },
  ]);
  if (deliveries.length === 0) return { id: result.id, deliveryIds: [] };
  const done = await store.completeProcessing(result.id, {
    status: 'processed',
    fhir: { resourceType: 'Bundle', type: 'message', entry: [] },
    deliveries: deliveries.map((d) => ({ destination: d.destination, patientKey: d.patientKey ?? 'p1', payload: { hello: 'world' } })),
  });
  return { id: result.id, deliveryIds: done.deliveries.map((d) => d.id) };
}

/** One failed attempt, then dead. */
export async function killDelivery(store: MessageStore, deliveryId: string): Promise<void> {
  await store.recordAttempt(deliveryId, { startedAt: new Date(), durationMs: 12, outcome: 'fatal-error', httpStatus: 410, error: 'gone' });
  await store.markDead(deliveryId, 'gone');
}

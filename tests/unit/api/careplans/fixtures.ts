import { createHash } from 'node:crypto';
// The API with a real care-plan service: in-memory SQLite stores, a scriptable roster, and the
// service's deliveries recorded instead of queued.
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../../../src/api/app.js';
import { CarePlanService } from '../../../../src/careplan/service.js';
import { resolveCarePlanSettings } from '../../../../src/careplan/settings.js';
import { openCarePlanStore } from '../../../../src/careplan/store/careplan-store.js';
import type { CarePlanStore } from '../../../../src/careplan/store/types.js';
import type { GatewayConfig } from '../../../../src/config/types.js';
import { createMetrics } from '../../../../src/observability/metrics.js';
import { silentLog } from '../../../../src/observability/log.js';
import { InboundWriter } from '../../../../src/ingest/inbound.js';
import { openStore } from '../../../../src/store/open-store.js';
import type { DeliveryRecord, MessageStore } from '../../../../src/store/types.js';
import { FakeIngest, makeConfig } from '../fixtures.js';
import { FakeRoster, MEDICAID } from '../../careplan/service/harness.js';

export { KEYS, auth } from '../fixtures.js';

export interface ApiHarness {
  app: FastifyInstance;
  service: CarePlanService;
  careplans: CarePlanStore;
  messages: MessageStore;
  roster: FakeRoster;
  deliveries: DeliveryRecord[];
  config: GatewayConfig;
  close(): Promise<void>;
}

/** NPI of the member's PCP, practising at river-health (with `pcp: true`). */
export const RIVER_PCP = '1245319599';
export const PCP_KEY = 'river-key-0123456789abcdef';

export async function apiHarness(options: { pcp?: boolean } = {}): Promise<ApiHarness> {
  const base = makeConfig();
  const config = makeConfig({
    partners: {
      'acme-aco': { name: 'Acme ACO', kind: 'aco', senders: ['EPIC^ACME'], destinations: { careplan: 'aco-hook' } },
      'bay-cp': { name: 'Bay CP', kind: 'cp', destinations: { careplan: 'cp-hook' } },
      ...(options.pcp
        ? {
            'river-health': { name: 'Riverside Health', kind: 'hospital', destinations: { careplan: 'shared-hook' }, pcpNpis: [RIVER_PCP] },
          }
        : {}),
    },
    ...(options.pcp
      ? {
          apiKeys: [
            ...base.apiKeys,
            { id: 'river-key', hash: `sha256:${createHash('sha256').update(PCP_KEY).digest('hex')}`, partners: ['river-health'] },
          ],
        }
      : {}),
  });
  const messages = await openStore('sqlite::memory:');
  const careplans = await openCarePlanStore('sqlite::memory:');
  const roster = new FakeRoster().add({
    memberId: 'M1',
    identifiers: [{ system: MEDICAID, value: 'M1' }],
    cp: ['bay-cp'],
    aco: ['acme-aco'],
    ...(options.pcp ? { pcp: [{ npi: RIVER_PCP }] } : {}),
  });
  const deliveries: DeliveryRecord[] = [];
  const service: CarePlanService = new CarePlanService({
    store: careplans,
    messages,
    inbound: new InboundWriter(messages),
    dispatch: async (messageId, sourceName, resource) => {
      const list = (await service.deliveriesFor(sourceName, resource)) ?? [];
      deliveries.push(...(await messages.completeProcessing(messageId, { status: 'processed', deliveries: list })).deliveries);
    },
    roster,
    ...(options.pcp ? { members: { membersOf: async () => [], attributionHistory: (id: string) => roster.attributionHistory(id) } } : {}),
    partners: config.partners,
    destinationTypes: new Map(config.destinations.map((d) => [d.id, d.type])),
    settings: resolveCarePlanSettings(config.careplans),
    log: silentLog,
  });
  const app = buildApi({
    config,
    store: messages,
    ingest: new FakeIngest(messages),
    log: silentLog,
    metrics: createMetrics({ defaultMetrics: false }),
    careplans: service,
  });
  await app.ready();
  return {
    app,
    service,
    careplans,
    messages,
    roster,
    deliveries,
    config,
    async close() {
      await app.close();
      await careplans.close();
      await messages.close();
    },
  };
}

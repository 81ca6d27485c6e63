// Test wiring for the care-plan service: real in-memory SQLite stores (message store and care-plan
// store), a scriptable roster, and a dispatch that does what the gateway's pipeline does with a
// care-plan message (deliveries from service.deliveriesFor, completeProcessing) minus the queue.
import type { Bundle, CarePlan } from 'fhir/r4.js';
import { CarePlanService, type CarePlanPartner, type MemberDirectory } from '../../../../src/careplan/service.js';
import {
  resolveCarePlanSettings,
  DEFAULT_CAREPLANS_CONFIG,
  type CarePlansConfig,
  type PartnerCalendarConfig,
} from '../../../../src/careplan/settings.js';
import { openCarePlanStore } from '../../../../src/careplan/store/careplan-store.js';
import type { CarePlanStore } from '../../../../src/careplan/store/types.js';
import { silentLog } from '../../../../src/observability/log.js';
import type { Attribution, Member, MemberIdentifier, ResolveResult, RosterLookup, UnmatchedInput } from '../../../../src/roster/types.js';
import { InboundWriter } from '../../../../src/ingest/inbound.js';
import { openStore } from '../../../../src/store/open-store.js';
import type { DeliveryRecord, MessageStore } from '../../../../src/store/types.js';

export const MEDICAID = 'urn:oid:2.16.840.1.113883.4.3.25';

export interface FakeMember {
  memberId: string;
  identifiers?: MemberIdentifier[];
  cp?: string[];
  aco?: string[];
  /** PCP attributions (partnerId = the PCP's NPI), with their dates. */
  pcp?: { npi: string; start?: string; end?: string }[];
}

/** Attribution on every date (the service's date logic is tested through `now`). */
export class FakeRoster implements RosterLookup {
  members = new Map<string, FakeMember>();
  add(m: FakeMember): this {
    this.members.set(m.memberId, m);
    return this;
  }
  async resolve(patient: { identifiers: MemberIdentifier[] }): Promise<ResolveResult> {
    for (const m of this.members.values()) {
      if (m.identifiers?.some((i) => patient.identifiers.some((p) => p.system === i.system && p.value === i.value))) {
        const member: Member = { memberId: m.memberId, identifiers: m.identifiers ?? [], attributions: [], consents: [], status: 'active' };
        return { kind: 'matched', member, by: 'identifier' };
      }
    }
    return { kind: 'unmatched' };
  }
  async attributedOn(memberId: string, _date: string, role: 'aco' | 'cp'): Promise<string[]> {
    return this.members.get(memberId)?.[role] ?? [];
  }
  /** PCP attributions only (the service reads nothing else from the history). */
  async attributionHistory(memberId: string): Promise<Attribution[]> {
    return (this.members.get(memberId)?.pcp ?? []).map((p) => ({
      partnerId: p.npi,
      role: 'pcp' as const,
      start: p.start ?? '2000-01-01',
      ...(p.end !== undefined ? { end: p.end } : {}),
    }));
  }
  async hasConsent(): Promise<boolean> {
    return false;
  }
  async recordUnmatched(_event: UnmatchedInput): Promise<void> {}
}

export type TestPartner = CarePlanPartner & PartnerCalendarConfig;

export const PARTNERS: Record<string, TestPartner> = {
  'acme-aco': { name: 'Acme ACO', kind: 'aco', destinations: { careplan: 'aco-hook' } },
  'bay-cp': { name: 'Bay CP', kind: 'cp', destinations: { careplan: 'cp-hook' } },
  'drop-cp': { name: 'Drop CP', kind: 'cp', destinations: { careplan: 'cp-sftp' } },
  'quiet-aco': { name: 'Quiet ACO', kind: 'aco', destinations: {} },
};

export const DESTINATIONS = new Map([
  ['aco-hook', 'webhook'],
  ['cp-hook', 'webhook'],
  ['cp-sftp', 'sftp'],
  ['aco-fhir', 'fhir'],
  ['pcp-hook', 'webhook'],
  ['pcp-sftp', 'sftp'],
]);

export interface Harness {
  service: CarePlanService;
  store: CarePlanStore;
  messages: MessageStore;
  roster: FakeRoster;
  /** Deliveries created by dispatches, in order. */
  deliveries: DeliveryRecord[];
  /** Set to make the next dispatches fail (as if the store went away mid-way). */
  failDispatch: boolean;
  clock: { now: Date };
  close(): Promise<void>;
}

export async function harness(
  options: {
    config?: Partial<CarePlansConfig>;
    members?: MemberDirectory;
    now?: string;
    roster?: boolean;
    /** Added to (or replacing) PARTNERS, e.g. a PCP organization or a CP with its own time zone. */
    partners?: Record<string, TestPartner>;
    /** Give the service the roster's PCP attributions (members.attributionHistory). */
    pcpHistory?: boolean;
  } = {},
): Promise<Harness> {
  const messages = await openStore('sqlite::memory:');
  const store = await openCarePlanStore('sqlite::memory:');
  const roster = new FakeRoster()
    .add({ memberId: 'M1', identifiers: [{ system: MEDICAID, value: 'M1' }], cp: ['bay-cp'], aco: ['acme-aco'] })
    .add({ memberId: 'M2', identifiers: [{ system: MEDICAID, value: 'M2' }], cp: ['bay-cp'], aco: [] })
    .add({ memberId: 'M3', identifiers: [{ system: MEDICAID, value: 'M3' }], cp: ['drop-cp'], aco: ['acme-aco'] });
  const clock = { now: new Date(options.now ?? '2024-05-01T14:00:00Z') };
  const partners: Record<string, TestPartner> = { ...PARTNERS, ...options.partners };
  const h: Partial<Harness> & { deliveries: DeliveryRecord[]; failDispatch: boolean } = { deliveries: [], failDispatch: false };
  const service: CarePlanService = new CarePlanService({
    store,
    messages,
    inbound: new InboundWriter(messages),
    dispatch: async (messageId, sourceName, resource) => {
      if (h.failDispatch) throw new Error('dispatch failed');
      const deliveries = (await service.deliveriesFor(sourceName, resource)) ?? [];
      const r = await messages.completeProcessing(messageId, { status: 'processed', fhir: JSON.stringify(resource), deliveries });
      h.deliveries.push(...r.deliveries);
    },
    roster: options.roster === false ? undefined : roster,
    members: options.pcpHistory
      ? {
          membersOf: (p, d, r) => options.members?.membersOf(p, d, r) ?? Promise.resolve([]),
          attributionHistory: (m) => roster.attributionHistory(m),
        }
      : options.members,
    partners,
    destinationTypes: DESTINATIONS,
    settings: resolveCarePlanSettings({ ...DEFAULT_CAREPLANS_CONFIG, ...options.config }, partners),
    log: silentLog,
    now: () => clock.now,
  });
  return Object.assign(h, {
    service,
    store,
    messages,
    roster,
    clock,
    async close() {
      service.stop();
      await store.close();
      await messages.close();
    },
  }) as Harness;
}

/** A minimal CP care plan for member `memberValue` (Medicaid id). */
export function cpPlan(memberValue = 'M1', extra: Partial<CarePlan> = {}): CarePlan {
  return {
    resourceType: 'CarePlan',
    id: 'cp-local-7',
    status: 'active',
    intent: 'plan',
    title: 'Comprehensive care plan',
    subject: { identifier: { system: MEDICAID, value: memberValue } },
    created: '2024-04-30T10:00:00-04:00',
    activity: [{ detail: { status: 'not-started', description: 'Weekly check-in call' } }],
    ...extra,
  };
}

export function payloadOf(d: DeliveryRecord): Bundle {
  return JSON.parse(d.payload!) as Bundle;
}

import type { CarePlan, Encounter, Patient } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import type { Conversion } from '../../../src/conversion/types.js';
import { MEMBER_UNMATCHED, NO_ROUTE_MATCHED } from '../../../src/routing/explain.js';
import { fetchPlanFacts, type RoutingReads } from '../../../src/routing/facts.js';
import {
  draftPlan,
  outcomeOf,
  planDelivery,
  planFhir,
  type PlanFacts,
  type PlanRequest,
  type RosterFacts,
  type RoutingPolicy,
} from '../../../src/routing/plan.js';
import { Router, type RouteRule } from '../../../src/routing/router.js';
import { sensitivityPolicy } from '../../../src/routing/sensitivity.js';

// The routing stage as plain data: a conversion, a policy and the facts fetched for it make a plan.
// No store, no roster database: the facts are built by hand (or fetched through a fake read port).

const MEDICAID = 'urn:oid:2.16.840.1.113883.4.927';

function conversion(over: Partial<Conversion> = {}, encounter: Partial<Encounter> = {}): Conversion {
  const patient: Patient = {
    resourceType: 'Patient',
    id: 'pat-1',
    identifier: [{ system: MEDICAID, value: 'MA1' }],
    name: [{ family: 'Doe', given: ['Jane'] }],
  };
  const enc: Encounter = {
    resourceType: 'Encounter',
    id: 'enc-1',
    status: 'finished',
    class: { code: 'IMP' },
    period: { end: '2024-05-01T10:00:00Z' },
    ...encounter,
  };
  return {
    adapterId: 'hl7v2-adt',
    bundle: {
      resourceType: 'Bundle',
      type: 'message',
      entry: [
        { fullUrl: 'urn:uuid:pat-1', resource: patient },
        { fullUrl: 'urn:uuid:enc-1', resource: enc },
      ],
    },
    warnings: [],
    patient,
    encounter: enc,
    sender: 'EPIC^MGH',
    messageType: 'ADT',
    event: 'A03',
    patientIdentifiers: [{ system: MEDICAID, value: 'MA1' }],
    patientClass: 'I',
    facilityCodes: ['MGH'],
    hospitalService: 'MED',
    eventDate: '2024-05-01',
    ...over,
  };
}

function request(c: Conversion | undefined, over: Partial<PlanRequest> = {}): PlanRequest {
  return {
    messageId: 'm1',
    sourceName: 'mllp-in',
    receivedAt: Date.parse('2024-05-02T00:00:00Z'),
    facts: c ?? conversion(),
    conversion: c,
    partnerId: 'mgh',
    ...over,
  };
}

function policy(rules: RouteRule[], over: Partial<RoutingPolicy> = {}): RoutingPolicy {
  return {
    router: new Router(rules),
    destinationTypes: new Map([
      ['hook', 'webhook'],
      ['cp-a-hook', 'webhook'],
      ['cp-b-fhir', 'fhir'],
      ['mllp-out', 'mllp'],
      ['notify', 'fhir-messaging'],
    ]),
    destinationPartners: new Map([['hook', 'aco-x']]),
    partnerAdtDestination: (p) => ({ 'cp-a': 'cp-a-hook', 'cp-b': 'cp-b-fhir' })[p],
    sensitivity: sensitivityPolicy({ sensitiveFacilities: [{ code: 'BHH', category: 'behavioral-health' }], sensitiveServices: [] }),
    ...over,
  };
}

function roster(over: Partial<RosterFacts> = {}): RosterFacts {
  return { memberId: 'M1', attributed: new Map([['cp', ['cp-a']]]), consents: new Set(), ...over };
}

const plan = (req: PlanRequest, pol: RoutingPolicy, facts: PlanFacts = {}) => planDelivery(draftPlan(req, pol), pol, facts);

describe('the delivery plan (pure)', () => {
  it('a fixed route: the conversion as a Bundle, with the route and the destination’s partner recorded', () => {
    const p = plan(request(conversion()), policy([{ id: 'all-adt', match: {}, to: ['hook'] }]));
    expect(p.deliveries).toEqual([{ destination: 'hook', patientKey: 'pat-1', payload: p.fhir, routeId: 'all-adt', partnerId: 'aco-x' }]);
    expect(p.filtered).toBeUndefined();
    expect(p.statusReason).toBe('routed by all-adt to hook (aco-x)');
    expect(outcomeOf(p)).toMatchObject({ status: 'processed', identifiers: [{ system: MEDICAID, value: 'MA1' }] });
  });

  it('no route: filtered, "no route matched"', () => {
    const p = plan(request(conversion()), policy([{ id: 'labs', match: { messageTypes: ['ORU'] }, to: ['hook'] }]));
    expect(p.filtered).toEqual({ reason: NO_ROUTE_MATCHED, kind: 'no-route' });
    expect(outcomeOf(p)).toMatchObject({ status: 'filtered', statusReason: NO_ROUTE_MATCHED, deliveries: [] });
  });

  it('the member’s attributed CP on the event date, through the CP’s adt destination', () => {
    const p = plan(request(conversion()), policy([{ id: 'to-cp', match: {}, toAttributed: 'cp' }]), { roster: roster() });
    expect(p.deliveries).toEqual([expect.objectContaining({ destination: 'cp-a-hook', routeId: 'to-cp', partnerId: 'cp-a' })]);
    expect(p.statusReason).toBe('routed by to-cp to cp-a-hook (cp-a)');
  });

  it('an attributed route and a patient not on the roster: unmatched, with the event to record for late routing', () => {
    const p = plan(request(conversion()), policy([{ id: 'to-cp', match: {}, toAttributed: 'cp' }]), {
      roster: roster({ memberId: undefined }),
    });
    expect(p.filtered).toEqual({ reason: MEMBER_UNMATCHED, kind: 'unmatched' });
    expect(p.unmatchedEvent).toEqual({
      messageId: 'm1',
      receivedAt: new Date('2024-05-02T00:00:00Z'),
      partnerId: 'mgh',
      identifiers: [{ system: MEDICAID, value: 'MA1' }],
      family: 'Doe',
      given: 'Jane',
      birthDate: undefined,
      sex: undefined,
    });
  });

  it('without a roster, attributed routes deliver nothing and nothing is unmatched', () => {
    const p = plan(
      request(conversion()),
      policy([
        { id: 'to-cp', match: {}, toAttributed: 'cp' },
        { id: 'fixed', match: {}, to: ['hook'] },
      ]),
    );
    expect(p.deliveries.map((d) => d.destination)).toEqual(['hook']);
    expect(p.unmatched).toBe(false);
    expect(p.unmatchedEvent).toBeUndefined();
  });

  it('an attributed partner without an adt destination is reported, not routed', () => {
    const p = plan(request(conversion()), policy([{ id: 'to-cp', match: {}, toAttributed: 'cp' }]), {
      roster: roster({ attributed: new Map([['cp', ['cp-z']]]) }),
    });
    expect(p.partnersWithoutAdt).toEqual([{ partnerId: 'cp-z', routeId: 'to-cp' }]);
    expect(p.filtered?.reason).toBe(NO_ROUTE_MATCHED);
  });

  it('a sensitive event is withheld without consent (who and why), sent with it, and labeled everywhere', () => {
    const c = conversion({ facilityCodes: ['BHH'] });
    const rules: RouteRule[] = [{ id: 'to-cp', match: {}, toAttributed: 'cp' }];
    const withheld = plan(request(c), policy(rules), { roster: roster() });
    expect(withheld.deliveries).toEqual([
      expect.objectContaining({
        destination: 'cp-a-hook',
        status: 'withheld',
        withheldReason: 'behavioral-health event: no behavioral-health consent on file for cp-a (route to-cp)',
      }),
    ]);
    expect(withheld.statusReason).toBe(
      'withheld from cp-a-hook (cp-a): behavioral-health event: no behavioral-health consent on file for cp-a (route to-cp)',
    );
    const sent = plan(request(c), policy(rules), { roster: roster({ consents: new Set(['cp-a|behavioral-health']) }) });
    expect(sent.deliveries[0]).not.toHaveProperty('status');
    expect(JSON.parse(sent.deliveries[0]!.payload as string).entry[0].resource.meta.security).toContainEqual(
      expect.objectContaining({ code: 'PSY' }),
    );
    expect(JSON.parse(sent.fhir!).meta.security).toContainEqual(expect.objectContaining({ code: 'R' }));
    // Pure: the conversion it was given is left as it was.
    expect(c.bundle.meta).toBeUndefined();
    expect(c.patient!.meta).toBeUndefined();
  });

  it('consent cannot be checked for a destination without a partner, nor for a member not on the roster', () => {
    const c = conversion({ facilityCodes: ['BHH'] });
    const p = plan(request(c), policy([{ id: 'fixed', match: {}, to: ['cp-b-fhir', 'hook'] }]), {
      roster: roster({ memberId: undefined }),
    });
    expect(p.deliveries.map((d) => d.withheldReason)).toEqual([
      'behavioral-health event: destination cp-b-fhir has no partner to hold consent (route fixed)',
      'behavioral-health event: member not on the roster, consent for aco-x unknown (route fixed)',
    ]);
  });

  it('transition of care: the CP’s CarePlan rides in the discharge Bundle', () => {
    const carePlan: CarePlan = {
      resourceType: 'CarePlan',
      id: 'cp-plan-1',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/pat-1' },
    };
    const p = plan(request(conversion()), policy([{ id: 'to-cp', match: {}, toAttributed: 'cp' }]), {
      roster: roster(),
      carePlans: new Map([['cp-a', carePlan]]),
    });
    const bundle = JSON.parse(p.deliveries[0]!.payload as string);
    expect(bundle.entry.map((e: { fullUrl: string }) => e.fullUrl)).toEqual(['urn:uuid:pat-1', 'urn:uuid:enc-1', 'urn:uuid:cp-plan-1']);
    // The stored FHIR is the message as converted, without the CP's addition.
    expect(JSON.parse(p.fhir!).entry).toHaveLength(2);
  });

  it('raw routes, FHIR-only destinations and messages no adapter converted', () => {
    const pol = policy([{ id: 'raw', match: { messageTypes: ['*'] }, to: ['mllp-out', 'cp-b-fhir'], payload: 'raw' }]);
    const raw = plan(request(conversion()), pol);
    expect(raw.deliveries).toEqual([expect.objectContaining({ destination: 'mllp-out', payload: undefined })]);
    const onlyFhir = plan(request(conversion()), policy([{ id: 'raw', match: {}, to: ['cp-b-fhir'], payload: 'raw' }]));
    expect(onlyFhir.filtered).toEqual({ reason: 'destination cp-b-fhir (fhir) takes FHIR only', kind: 'no-destination' });
    const facts = conversion({ messageType: 'ORU', event: 'R01' });
    const unconverted = plan(
      request(undefined, { facts, unconverted: 'no converter for ORU^R01' }),
      policy([{ id: 'any', match: { messageTypes: ['*'] }, to: ['hook'] }]),
    );
    expect(unconverted.filtered).toEqual({ reason: 'no converter for ORU^R01', kind: 'no-converter' });
    expect(unconverted.fhir).toBeUndefined();
  });

  it('a late routing: attributed routes only, never to a destination its original already decided for', () => {
    const rules: RouteRule[] = [
      { id: 'fixed', match: {}, to: ['hook'] },
      { id: 'to-cp', match: {}, toAttributed: 'cp' },
    ];
    const facts = { roster: roster({ attributed: new Map([['cp', ['cp-a', 'cp-b']]]) }) };
    const p = plan(request(conversion(), { attributedOnly: true, except: new Set(['cp-a-hook']) }), policy(rules), facts);
    expect(p.deliveries.map((d) => d.destination)).toEqual(['cp-b-fhir']);
    const none = plan(request(conversion(), { attributedOnly: true, except: new Set(['cp-a-hook']) }), policy(rules), {
      roster: roster(),
    });
    expect(none.filtered).toEqual({ reason: 'destination cp-a-hook already had it', kind: 'no-destination' });
  });

  it('Da Vinci notifications for admits/discharges only', () => {
    const pol = policy([{ id: 'n', match: { events: ['A03', 'A08'] }, to: ['notify'] }]);
    const update = plan(request(conversion({ event: 'A08' })), pol);
    expect(update.filtered).toEqual({ reason: 'no Da Vinci notification for ADT^A08', kind: 'no-destination' });
  });

  it('a FHIR resource over HTTP goes to FHIR Bundle destinations of routes naming its source', () => {
    const pol = policy([{ id: 'fhir-in', match: { sources: ['http-fhir'] }, to: ['hook', 'mllp-out', 'notify'] }]);
    expect(planFhir('http-fhir', '{}', pol)).toEqual([
      { destination: 'hook', patientKey: null, payload: '{}', routeId: 'fhir-in', partnerId: 'aco-x' },
    ]);
  });
});

describe('fetching the plan’s facts through the read port', () => {
  function reads(log: string[], consented: string[] = []): RoutingReads {
    return {
      roster: {
        async resolve() {
          log.push('resolve');
          return {
            kind: 'matched',
            by: 'identifier',
            member: { memberId: 'M1', identifiers: [], attributions: [], consents: [], status: 'active' },
          };
        },
        async attributedOn(memberId, date, role) {
          log.push(`attributedOn ${memberId} ${date} ${role}`);
          return role === 'cp' ? ['cp-a'] : [];
        },
        async hasConsent(memberId, partnerId, category) {
          log.push(`hasConsent ${partnerId} ${category}`);
          return consented.includes(partnerId);
        },
      },
      async transitionOfCare(input) {
        log.push(`transitionOfCare ${input.cpPartnerId} ${input.memberId} ${input.dischargeAt}`);
        return { resourceType: 'CarePlan', id: 'toc', status: 'active', intent: 'plan', subject: {} } as CarePlan;
      },
    };
  }

  it('asks the roster nothing when no attributed route applies and the event is not sensitive', async () => {
    const log: string[] = [];
    const pol = policy([{ id: 'fixed', match: {}, to: ['hook'] }]);
    const draft = draftPlan(request(conversion()), pol);
    const facts = await fetchPlanFacts(draft, pol, reads(log));
    expect(log).toEqual([]);
    expect(planDelivery(draft, pol, facts).deliveries).toHaveLength(1);
  });

  it('member, attribution on the event date, then the CP’s transition-of-care plan and the consents a sent destination needs', async () => {
    const log: string[] = [];
    const pol = policy([
      { id: 'to-cp', match: {}, toAttributed: 'cp' },
      { id: 'fixed', match: {}, to: ['hook'] },
    ]);
    const draft = draftPlan(request(conversion({ facilityCodes: ['BHH'] })), pol);
    const facts = await fetchPlanFacts(draft, pol, reads(log, ['cp-a']));
    expect(log).toEqual([
      'resolve',
      'attributedOn M1 2024-05-01 cp',
      'transitionOfCare cp-a M1 2024-05-01T10:00:00Z',
      'hasConsent aco-x behavioral-health',
      'hasConsent cp-a behavioral-health',
    ]);
    const p = planDelivery(draft, pol, facts);
    expect(p.deliveries.map((d) => [d.destination, d.status ?? 'pending'])).toEqual([
      ['hook', 'withheld'],
      ['cp-a-hook', 'pending'],
    ]);
    expect(JSON.parse(p.deliveries[1]!.payload as string).entry[2].resource.meta.security).toContainEqual(
      expect.objectContaining({ code: 'PSY' }),
    );
  });

  it('no transition-of-care plan for an admission', async () => {
    const log: string[] = [];
    const pol = policy([{ id: 'to-cp', match: {}, toAttributed: 'cp' }]);
    const draft = draftPlan(request(conversion({ event: 'A01' }, { status: 'in-progress', period: {} })), pol);
    await fetchPlanFacts(draft, pol, reads(log));
    expect(log).toEqual(['resolve', 'attributedOn M1 2024-05-01 cp']);
  });
});

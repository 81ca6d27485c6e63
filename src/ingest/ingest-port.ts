import { createHash } from 'node:crypto';
import type { FhirIngestMeta, FhirIngestResult, Hl7IngestMeta, Hl7IngestResult, IngestPort } from '../api/types.js';
import type { Outbox } from '../delivery/outbox.js';
import { failureFields, isDependencyFailure } from '../errors/failure.js';
import { FhirValidation } from '../fhir/validate.js';
import { silentLog, type Logger } from '../observability/log.js';
import type { QueueDepth } from '../observability/metrics.js';
import { consentDecisions, type ConsentDecision } from '../roster/fhir-consent.js';
import type { Roster } from '../roster/roster-store.js';
import type { MessageStore } from '../store/types.js';
import type { Inbox } from './inbox.js';
import type { Pipeline } from './pipeline.js';

const FHIR_BUNDLE_TYPES = new Set(['message', 'transaction', 'batch', 'collection', 'document', 'searchset', 'history']);

/** The API's view of ingest: HTTP bodies into the inbox, replays and requeues into the pipeline. */
export class GatewayIngestPort implements IngestPort {
  constructor(
    private readonly store: MessageStore,
    private readonly inbox: Inbox,
    private readonly pipeline: Pipeline,
    private readonly outbox: Outbox,
    /** With a roster, a posted FHIR Consent records the member's consent for the named partner. */
    private readonly roster?: Pick<Roster, 'findMemberIds' | 'recordConsent'>,
    private readonly log: Logger = silentLog,
    /** Its thread starts on the first posted resource; the gateway closes it. */
    private readonly validation: Pick<FhirValidation, 'validate'> = new FhirValidation(),
  ) {}

  /**
   * A failure that becomes a 503 (nothing stored or nothing acknowledged; the client retries) is
   * logged: at warn for a dependency that failed, at error for anything else, which is a bug.
   */
  private unavailable(e: unknown, step: string): void {
    const fields = { step, ...failureFields(e) };
    if (isDependencyFailure(e)) this.log.warn(fields, 'ingest unavailable: a dependency failed');
    else this.log.error(fields, 'ingest unavailable: unexpected error');
    this.log.debug({ err: e }, 'ingest failure detail');
  }

  async receiveHl7(body: Buffer, meta: Hl7IngestMeta): Promise<Hl7IngestResult> {
    try {
      const results = await this.inbox.receiveHl7(body, { sourceKind: 'http', sourceName: meta.sourceName, partnerId: meta.partnerId });
      const rejected = results.some((r) => r.outcome === 'rejected');
      const allDuplicate = results.every((r) => r.outcome === 'duplicate');
      return {
        ack: results.map((r) => r.ack ?? '').join(''),
        outcome: rejected ? 'rejected' : allDuplicate ? 'duplicate' : 'accepted',
        messageIds: results.map((r) => r.messageId),
        httpStatus: rejected ? 400 : 200,
      };
    } catch (e) {
      // Store unavailable: nothing stored, nothing acknowledged; the client must retry.
      this.unavailable(e, 'hl7');
      return { ack: '', outcome: 'unavailable', messageIds: [], httpStatus: 503 };
    }
  }

  async receiveFhir(resource: unknown, meta: FhirIngestMeta): Promise<FhirIngestResult> {
    const issues = fhirShapeIssues(resource);
    if (!issues.length) {
      try {
        issues.push(...(await this.validation.validate(resource as object)));
      } catch (e) {
        // The validation thread failed (nothing stored yet): the client sends again.
        this.unavailable(e, 'fhir-validation');
        return { outcome: 'unavailable', httpStatus: 503 };
      }
    }
    let consent: { memberId: string; decision: ConsentDecision }[] = [];
    if (!issues.length && this.roster && (resource as { resourceType?: string }).resourceType === 'Consent') {
      const read = consentDecisions(resource);
      issues.push(...read.issues);
      try {
        consent = await this.resolveConsentMembers(read.decisions);
      } catch (e) {
        this.unavailable(e, 'consent-members');
        return { outcome: 'unavailable', httpStatus: 503 };
      }
      if (read.decisions.length && consent.length === 0) issues.push('Consent.patient does not match a roster member');
    }
    const raw = Buffer.from(JSON.stringify(resource ?? null), 'utf8');
    const hash = createHash('sha256').update(raw).digest('hex');
    const r = resource as { resourceType?: string; id?: string; type?: string };
    try {
      const stored = await this.inbox.write({
        kind: 'fhir',
        key: { partnerId: meta.partnerId, contentHash: hash },
        input: {
          sourceKind: 'http',
          sourceName: meta.sourceName,
          partnerId: meta.partnerId ?? null,
          sender: meta.partnerId ?? null,
          controlId: typeof r?.id === 'string' ? r.id : null,
          messageType: 'FHIR',
          triggerEvent: typeof r?.resourceType === 'string' ? r.resourceType : null,
          contentHash: hash,
          raw,
          status: issues.length ? 'rejected' : 'received',
          statusReason: issues.length ? issues.join('; ') : null,
        },
      });
      if (issues.length) return { outcome: 'rejected', messageId: stored.id, httpStatus: 400, issues };
      if (stored.duplicate) return { outcome: 'duplicate', messageId: stored.id, httpStatus: 200 };
      for (const c of consent) {
        const d = c.decision;
        await this.roster!.recordConsent(c.memberId, {
          partnerId: d.partnerId,
          category: d.category,
          granted: d.granted,
          source: 'fhir-consent',
          recordedAt: d.recordedAt,
          actor: 'fhir',
        });
      }
      this.pipeline.processFhir(stored.id, meta.sourceName, resource as { resourceType: string }, Date.now()).catch((e) => {
        // Left `received`: the recovery sweep routes it.
        this.log.warn({ messageId: stored.id, ...failureFields(e) }, 'FHIR message left to the recovery sweep');
      });
      return { outcome: 'accepted', messageId: stored.id, httpStatus: 201 };
    } catch (e) {
      this.unavailable(e, 'fhir');
      return { outcome: 'unavailable', httpStatus: 503 };
    }
  }

  /** The roster member each decision's identifiers name (decisions for unknown members are dropped). */
  private async resolveConsentMembers(decisions: ConsentDecision[]): Promise<{ memberId: string; decision: ConsentDecision }[]> {
    const out: { memberId: string; decision: ConsentDecision }[] = [];
    for (const decision of decisions) {
      for (const i of decision.identifiers) {
        const memberId = (await this.roster!.findMemberIds({ system: i.system, value: i.value }))[0];
        if (memberId) {
          out.push({ memberId, decision });
          break;
        }
      }
    }
    return out;
  }

  async replay(messageId: string, actor: string): Promise<{ id: string; replayOf: string }> {
    // The API writes the audit event (with the key id); passing the actor here would audit twice.
    void actor;
    const replay = await this.store.createReplay(messageId);
    // Re-run with the current mappings; the new deliveries are linked to the replay row.
    await this.pipeline.reprocess(replay.id);
    return replay;
  }

  async requeueDead(target: { deliveryId: string } | { destination: string }, actor: string): Promise<string[]> {
    void actor; // audited by the API
    const ids = await this.store.requeueDead('deliveryId' in target ? target.deliveryId : { destination: target.destination });
    for (const id of ids) {
      const d = await this.store.getDelivery(id);
      if (!d) continue;
      // Redis down: the delivery is pending in the store; the recovery sweep enqueues it later.
      await this.outbox.queues.requeueDead({
        deliveryId: d.id,
        messageId: d.messageId,
        destinationId: d.destination,
        patientKey: d.patientKey ?? '',
        seq: d.seq,
      });
    }
    return ids;
  }

  async redisUp(): Promise<boolean> {
    return this.outbox.queues.isRedisUp();
  }

  async queueDepths(): Promise<Record<string, QueueDepth>> {
    const out: Record<string, QueueDepth> = {};
    for (const id of this.outbox.queues.destinationIds()) out[id] = await this.outbox.queues.depth(id);
    return out;
  }
}

/** Minimal structural checks for POST /fhir: an object with a resourceType; Bundles with a known type and resources. */
export function fhirShapeIssues(resource: unknown): string[] {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) return ['body must be a FHIR resource (a JSON object)'];
  const r = resource as { resourceType?: unknown; type?: unknown; entry?: unknown };
  if (typeof r.resourceType !== 'string' || !/^[A-Z][A-Za-z]+$/.test(r.resourceType)) return ['resourceType is missing or invalid'];
  const issues: string[] = [];
  if (r.resourceType === 'Bundle') {
    if (typeof r.type !== 'string' || !FHIR_BUNDLE_TYPES.has(r.type)) issues.push('Bundle.type is missing or not a known bundle type');
    if (r.entry !== undefined && !Array.isArray(r.entry)) issues.push('Bundle.entry must be an array');
    else
      (r.entry as unknown[] | undefined)?.forEach((e, i) => {
        const res = (e as { resource?: { resourceType?: unknown } } | null)?.resource;
        if (!res || typeof res.resourceType !== 'string') issues.push(`Bundle.entry[${i}].resource is missing a resourceType`);
      });
  }
  return issues;
}

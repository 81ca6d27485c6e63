// What every care-plan job shares: the dependencies, the clock, the PCP organizations, and the two
// writes all of them make: the optimistic save of a plan (`mutate`) and the outbound message that
// follows it (`send`). Plan first, message second, both idempotent: a caller that saw an error
// retries, and the retry finishes what a crash interrupted.
import type { CarePlan } from 'fhir/r4.js';
import type { Logger } from '../../observability/log.js';
import type { Attribution, RosterLookup } from '../../roster/types.js';
import type { InboundEntry, InboundWriterPort } from '../../ingest/inbound.js';
import type { MessageStore } from '../../store/types.js';
import { CarePlanError } from '../errors.js';
import { formatInstantInZone } from '../local-date.js';
import type { CarePlanSettings } from '../settings.js';
import type { CarePlanQuery, CarePlanRecord, CarePlanStore, CarePlanWrite, Page, SaveExtras } from '../store/types.js';

/** What the service needs to know about a configured partner. */
export interface CarePlanPartner {
  name: string;
  kind: string;
  destinations: { careplan?: string };
  /** NPIs of the PCPs of this organization: it also receives and may sign their members' CP care plans. */
  pcpNpis?: readonly string[];
}

/** Members attributed to a partner on a date: the roster's answer, for the weekly status file. */
export interface MemberDirectory {
  membersOf(partnerId: string, date: string, role: 'cp' | 'aco'): Promise<string[]>;
  /**
   * A member's attributions over time. Its PCP ones (role pcp, partnerId = the PCP's NPI) route a
   * CP care plan to the PCP's organization too; without it, plans go to the ACO only.
   */
  attributionHistory?(memberId: string): Promise<Attribution[]>;
}

/** Completes a stored care-plan message with `deliveriesFor` and enqueues (the pipeline's processFhir). */
export type Dispatch = (messageId: string, sourceName: string, resource: { resourceType: string }, receivedAt: number) => Promise<void>;

export interface CarePlanServiceDeps {
  store: CarePlanStore;
  /** The inbox's writer: outbound care-plan messages are stored as inbound ones, with their kind's dedupe key. */
  inbound: InboundWriterPort;
  messages: Pick<MessageStore, 'getMessageRaw'>;
  dispatch: Dispatch;
  /** Without it, CP care plans cannot be matched to members (submissions are refused). */
  roster?: RosterLookup;
  /** Without it, the weekly file's members are those seen in discharges and care plans. */
  members?: MemberDirectory;
  partners: Readonly<Record<string, CarePlanPartner>>;
  /** Destination id → type: its module (src/delivery/deliverers/registry.ts) shapes the payload. */
  destinationTypes: ReadonlyMap<string, string>;
  settings: CarePlanSettings;
  log: Logger;
  now?: () => Date;
}

const MAX_SAVE_ATTEMPTS = 5;
/** Page size when a job walks a whole list. */
export const PAGE = 1000;

export class CarePlanContext {
  readonly now: () => Date;
  /** PCP NPI → the partner (organization) listing it in pcpNpis. */
  readonly pcpOrganizations = new Map<string, string>();

  /** Checks the partners and weekly files against each other: a bad config fails at start. */
  constructor(readonly deps: CarePlanServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    for (const [partnerId, partner] of Object.entries(deps.partners)) {
      for (const npi of partner.pcpNpis ?? []) {
        const first = this.pcpOrganizations.get(npi);
        if (first !== undefined && first !== partnerId)
          throw new CarePlanError('invalid', `partners: a PCP NPI is listed by both '${first}' and '${partnerId}'`);
        this.pcpOrganizations.set(npi, partnerId);
      }
    }
    for (const f of deps.settings.weeklyStatus.files) {
      if (!deps.partners[f.partner]) throw new CarePlanError('invalid', `careplans.weeklyStatus.files: unknown partner '${f.partner}'`);
      if (!deps.destinationTypes.has(f.destination)) {
        throw new CarePlanError('invalid', `careplans.weeklyStatus.files: unknown destination '${f.destination}'`);
      }
    }
  }

  /** A FHIR instant in the configured zone. */
  instant(at: Date = this.now()): string {
    return formatInstantInZone(at.getTime(), this.deps.settings.timeZone);
  }

  /**
   * Read, change, save if nobody changed it meanwhile; again on a conflict. `change` returns the
   * new row (and extras), or undefined to keep the stored one as it is.
   */
  async mutate(
    id: string,
    change: (existing: CarePlanRecord | null) => Promise<{ write: CarePlanWrite; extras?: SaveExtras } | undefined>,
  ): Promise<{ record: CarePlanRecord }> {
    for (let attempt = 1; ; attempt++) {
      const existing = await this.deps.store.get(id);
      const next = await change(existing);
      if (!next) return { record: existing! };
      const version = existing?.version ?? 0;
      const write: CarePlanWrite = { ...next.write, resource: withMeta(next.write.resource, version + 1, this.instant()) };
      const saved = await this.deps.store.save(write, version, next.extras);
      if (saved) return { record: saved };
      if (attempt >= MAX_SAVE_ATTEMPTS) throw new CarePlanError('conflict', 'the care plan is being changed concurrently; try again');
    }
  }

  /**
   * Stores the outbound message (idempotent by dedupe key) and has it dispatched unless an earlier
   * call already did. A dispatch failure leaves the message `received`: the recovery sweep routes it.
   */
  async send(entry: InboundEntry, resource: { resourceType: string }, record: CarePlanRecord | undefined): Promise<string> {
    const result = await this.deps.inbound.write(entry);
    if (!result.duplicate || result.status === 'received') {
      await this.deps
        .dispatch(result.id, entry.input.sourceName, resource, Date.now())
        .catch((e) =>
          this.deps.log.warn({ messageId: result.id, err: (e as Error).message }, 'care-plan message left to the recovery sweep'),
        );
    }
    if (record && record.lastMessageId !== result.id) await this.deps.store.setLastMessage(record.id, result.id);
    return result.id;
  }

  /** A message a crash left `received` (stored, never routed) is routed now. */
  async redispatchIfUnfinished(messageId: string): Promise<void> {
    const stored = await this.deps.messages.getMessageRaw(messageId);
    if (stored?.status !== 'received') return;
    const resource = JSON.parse(stored.raw.toString('utf8')) as { resourceType: string };
    await this.deps
      .dispatch(messageId, stored.sourceName, resource, stored.receivedAt.getTime())
      .catch((e) => this.deps.log.warn({ messageId, err: (e as Error).message }, 'care-plan message left to the recovery sweep'));
  }

  /** Every plan matching the query, page by page. */
  async *all(query: CarePlanQuery): AsyncGenerator<CarePlanRecord> {
    let cursor: string | null = null;
    do {
      const page: Page<CarePlanRecord> = await this.deps.store.list({ ...query, limit: PAGE, cursor });
      yield* page.items;
      cursor = page.next;
    } while (cursor);
  }
}

/** meta.versionId / lastUpdated as the store will hold them (tags kept). */
function withMeta(plan: CarePlan, version: number, lastUpdated: string): CarePlan {
  return { ...plan, meta: { ...plan.meta, versionId: String(version), lastUpdated } };
}

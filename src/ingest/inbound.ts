// The one writer of inbound messages. Every message the gateway stores as received, whatever its
// source, is written here, with the dedupe key its kind's rule gives (DEDUPE_KEYS, the one place
// those rules are stated). A second write of the same key is a duplicate: the store answers with
// the first one's id and status, and the caller decides what that means for it.
//
// HL7 v2 from the listeners (MLLP, HTTP) is group-committed across concurrent senders (a
// MicroBatcher): that is the hot path. The other kinds are written one at a time, as they come
// (FHIR over HTTP, the gateway's own roster notices, late routings and care-plan messages).
// `acceptInbound` is called nowhere else (eslint.config.js, tests/packaging/inbound-writer.test.ts).
import type { InboundInput, InboundResult, MessageStore } from '../store/types.js';
import { MicroBatcher } from './micro-batcher.js';

/** What identifies a message of each kind, as its dedupe key: same key, same message. */
export const DEDUPE_KEYS = {
  /** HL7 v2 over MLLP/HTTP: sender (MSH-3^MSH-4) + control id (MSH-10) + content hash. */
  hl7v2: (k: { sender: string; controlId: string; contentHash: string }) => `${k.sender}|${k.controlId}|${k.contentHash}`,
  /** Bad HL7 v2 input, stored rejected: apart from accepted ones, so a fixed resend is not a duplicate of it. */
  'hl7v2-rejected': (k: { sender: string; controlId: string; contentHash: string }) =>
    `rejected|${k.sender}|${k.controlId}|${k.contentHash}`,
  /** FHIR JSON over HTTP: the posting partner (key) + content hash. */
  fhir: (k: { partnerId: string | undefined; contentHash: string }) => `fhir|${k.partnerId ?? ''}|${k.contentHash}`,
  /** Roster assignment notices: one message per member-file import. */
  'roster-notice': (k: { importId: string }) => `roster-assignments|${k.importId}`,
  /** Late routing of a resolved unmatched event: one message per original message. */
  'late-routing': (k: { originalId: string }) => `${LATE_ROUTING_KEY_PREFIX}${k.originalId}`,
  /** A CP care plan submitted (API or file): one message per plan version. */
  'careplan-submission': (k: { carePlanId: string; version: number }) => `careplan|submission|${k.carePlanId}|${k.version}`,
  /** A PCP sign-off decision: one message per Provenance. */
  'careplan-signoff': (k: { provenanceId: string }) => `careplan|signoff|${k.provenanceId}`,
  /** The weekly care-plan status file: one message per partner and week. */
  'careplan-status': (k: { partnerId: string; week: string }) => `careplan|status|${k.partnerId}|${k.week}`,
} as const;

const LATE_ROUTING_KEY_PREFIX = 'roster-late|';

export type InboundKind = keyof typeof DEDUPE_KEYS;

/** The facts a kind's dedupe key is made of. */
export type DedupeFacts<K extends InboundKind> = Parameters<(typeof DEDUPE_KEYS)[K]>[0];

/** A message to store: its kind, the facts of its dedupe key, and the row (the key is derived). */
export type InboundEntry = {
  [K in InboundKind]: { kind: K; key: DedupeFacts<K>; input: Omit<InboundInput, 'dedupeKey'> };
}[InboundKind];

/** The row to store for an entry: its input with the dedupe key of its kind. */
export function inboundInput(entry: InboundEntry): InboundInput {
  const rule = DEDUPE_KEYS[entry.kind] as (k: unknown) => string;
  return { ...entry.input, dedupeKey: rule(entry.key) };
}

/** The original message id a late routing's dedupe key names (undefined: not a late routing's key). */
export function lateRoutingOriginal(dedupeKey: string): string | undefined {
  return dedupeKey.startsWith(LATE_ROUTING_KEY_PREFIX) ? dedupeKey.slice(LATE_ROUTING_KEY_PREFIX.length) : undefined;
}

/** What writers other than the HL7 v2 listeners see of the inbox. */
export interface InboundWriterPort {
  write(entry: InboundEntry): Promise<InboundResult>;
}

export class InboundWriter implements InboundWriterPort {
  private readonly batcher: MicroBatcher<InboundInput, InboundResult>;

  /** @param maxBatch largest group commit of HL7 v2 messages */
  constructor(
    private readonly store: Pick<MessageStore, 'acceptInbound'>,
    maxBatch = 500,
  ) {
    this.batcher = new MicroBatcher((items) => store.acceptInbound(items), maxBatch);
  }

  /** An HL7 v2 message from a listener, group-committed with the others arriving meanwhile. */
  receive(entry: Extract<InboundEntry, { kind: 'hl7v2' | 'hl7v2-rejected' }>): Promise<InboundResult> {
    return this.batcher.submit(inboundInput(entry));
  }

  /** Any other message, written on its own (one transaction); resolves once it is durable. */
  async write(entry: InboundEntry): Promise<InboundResult> {
    const [stored] = await this.store.acceptInbound([inboundInput(entry)]);
    return stored!;
  }
}

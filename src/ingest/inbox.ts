import { createHash } from 'node:crypto';
import { routingFactsOf } from '../conversion/message-facts.js';
import {
  ackModeOf,
  ackSourceOf,
  ackWanted,
  buildAck,
  HL7_ERROR,
  Hl7Message,
  Hl7ParseError,
  scrapeAckSource,
  splitMessages,
  type AckCode,
  type AckSource,
} from '../hl7v2/index.js';
import type { MappingProfile } from '../mapping/profile-schema.js';
import type { RoutableMessage } from '../routing/plan.js';
import type { SourceKind } from '../store/types.js';
import { refusalOf, type AcceptPolicy } from './acceptance.js';
import { convertParsed } from './convert-message.js';
import type { InboundEntry, InboundWriter } from './inbound.js';

export type { RoutableMessage } from '../routing/plan.js';

export interface ReceiveMeta {
  sourceKind: SourceKind;
  sourceName: string;
  /** The partner the source or API key belongs to; else resolved from the sender. */
  partnerId?: string;
}

export type ReceiveOutcome = 'accepted' | 'duplicate' | 'rejected';

export interface ReceivedMessage {
  outcome: ReceiveOutcome;
  /** The ACK to send back (undefined when the sender asked for none: enhanced mode NE/ER/SU). */
  ack: string | undefined;
  messageId: string;
  controlId: string;
  reason?: string;
}

/** Work handed to processing after the commit; the conversion is reused when already done. */
export interface AcceptedWork extends RoutableMessage {
  messageId: string;
  sourceName: string;
  receivedAt: number;
}

/** The `received` / `rejected` step of a message's life as logged: header ids and codes, never content. */
export interface ReceiveStep {
  messageId: string;
  controlId: string;
  /** MSH-3^MSH-4. */
  sender: string;
  /** MSH-9.1^MSH-9.2, e.g. ADT^A01 (empty parts when unreadable). */
  type: string;
  /** The ACK code sent (AA, AE, AR, CA, CE, CR), or `none` when the sender asked for none. */
  ack: string;
  /** Why it was rejected (the text the NACK carries). */
  reason?: string;
}

export interface InboxDeps {
  /** The one writer of inbound messages (src/ingest/inbound.ts). */
  inbound: Pick<InboundWriter, 'receive' | 'write'>;
  /** Mapping profile by partner (undefined partner: base profile). */
  profileFor(partnerId: string | undefined): MappingProfile;
  /** The source's `accept` policy (strict partners); undefined: every well-formed message. */
  acceptPolicyFor?(sourceName: string): AcceptPolicy | undefined;
  /** Partner owning an MSH-3^MSH-4 sender, when the source does not say. */
  partnerForSender(sender: string): string | undefined;
  /** Whether one of the partner's `senders` patterns matches (a partner-owned source or key sends only those). */
  isSenderOf(partnerId: string, sender: string): boolean;
  /** Called after the commit for each new accepted message (routing runs there). */
  onAccepted(work: AcceptedWork): void;
  /** Observability: outcome per message, no PHI (`step` holds ids and codes only, for the log line). */
  onReceived?(meta: ReceiveMeta, outcome: ReceiveOutcome, reasonKind?: string, step?: ReceiveStep): void;
}

/**
 * The inbox: validate (parse and convert), persist, then acknowledge. Nothing is ACKed before
 * its raw bytes are committed. A well-formed message is accepted even when no adapter converts
 * it (it is then routed raw or filtered); one that is unreadable, lacks MSH-9/MSH-10, would map
 * to wrong data, or falls outside its source's `accept` policy is stored as rejected and NACKed
 * with the reason; a duplicate (same sender, control id and content) is acknowledged and
 * counted, not processed again. Commits are grouped across concurrent senders. The store is
 * written through the one inbound writer (inbound.ts), which the other kinds (`write`: FHIR over
 * HTTP, roster notices, late routing, care plans) share, each with its dedupe-key rule.
 */
export class Inbox {
  constructor(private readonly deps: InboxDeps) {}

  /** Any other kind of inbound message (FHIR over HTTP, ...), stored with its kind's dedupe key. */
  write(entry: InboundEntry): ReturnType<InboundWriter['write']> {
    return this.deps.inbound.write(entry);
  }

  /**
   * Receives a payload of one or more HL7 v2 messages (a batch file is split). Resolves once
   * every message is stored; rejects only when the store is unavailable (then nothing may be
   * acknowledged and the sender must resend).
   */
  async receiveHl7(payload: Buffer, meta: ReceiveMeta): Promise<ReceivedMessage[]> {
    const { items } = splitMessages(payload);
    const messages = items.filter((i) => i.kind === 'message');
    if (messages.length === 0) {
      // Nothing that looks like a message at all: still stored (as rejected) so it can be examined.
      return [await this.receiveOne(payload, meta)];
    }
    return Promise.all(messages.map((m) => this.receiveOne(m.kind === 'message' ? m.bytes : payload, meta)));
  }

  private async receiveOne(bytes: Buffer, meta: ReceiveMeta): Promise<ReceivedMessage> {
    const receivedAt = Date.now();
    const hash = createHash('sha256').update(bytes).digest('hex');
    let msg: Hl7Message;
    try {
      msg = Hl7Message.parse(bytes);
    } catch (e) {
      const reason = e instanceof Hl7ParseError ? e.message : 'unreadable message';
      const src = scrapeAckSource(bytes.toString('latin1'));
      const code = e instanceof Hl7ParseError && e.code === 'MISSING_FIELD' ? HL7_ERROR.REQUIRED_FIELD_MISSING : HL7_ERROR.DATA_TYPE;
      const field = e instanceof Hl7ParseError ? e.position.field : undefined;
      return this.reject(bytes, hash, meta, src, reason, 'parse', code, field ? { segment: 'MSH', field } : undefined, receivedAt);
    }
    const src = ackSourceOf(msg);
    const sender = msg.sender;
    if (meta.partnerId !== undefined && !this.deps.isSenderOf(meta.partnerId, sender)) {
      // The source or key vouches for one partner: a message naming another sender would be filed,
      // routed and delivered as that partner's (issue 11.1).
      const reason = `sender ${sender} is not a sender of partner ${meta.partnerId}`;
      return this.reject(bytes, hash, meta, src, reason, 'sender', HL7_ERROR.INTERNAL_ERROR, { segment: 'MSH', field: 3 }, receivedAt, msg);
    }
    const partnerId = meta.partnerId ?? this.deps.partnerForSender(sender);
    const refusal = refusalOf(this.deps.acceptPolicyFor?.(meta.sourceName), msg, meta.sourceName);
    if (refusal) {
      return this.reject(
        bytes,
        hash,
        { ...meta, partnerId },
        src,
        refusal.reason,
        'not-accepted',
        refusal.hl7ErrorCode,
        { segment: 'MSH', field: 9 },
        receivedAt,
        msg,
      );
    }
    const result = convertParsed(msg, this.deps.profileFor(partnerId));
    // No adapter for it (or the adapter declined): accepted all the same, routed raw or filtered.
    if (!result.ok && result.kind !== 'unsupported') {
      return this.reject(
        bytes,
        hash,
        { ...meta, partnerId },
        src,
        result.reason,
        result.kind,
        result.hl7ErrorCode,
        undefined,
        receivedAt,
        msg,
      );
    }
    const conversion = result.ok ? result.conversion : undefined;
    const input = {
      receivedAt: new Date(receivedAt),
      sourceKind: meta.sourceKind,
      sourceName: meta.sourceName,
      partnerId: partnerId ?? null,
      sender,
      controlId: msg.controlId,
      messageType: msg.messageType,
      triggerEvent: msg.triggerEvent,
      version: msg.version,
      contentHash: hash,
      raw: bytes,
      identifiers: conversion?.patientIdentifiers.map((i) => ({ system: i.system!, value: i.value! })),
    };
    const stored = await this.deps.inbound.receive({ kind: 'hl7v2', key: { sender, controlId: msg.controlId, contentHash: hash }, input });
    const type = `${msg.messageType}^${msg.triggerEvent}`;
    if (stored.duplicate) {
      // The first copy decided the answer: accepted stays accepted, rejected is rejected again.
      const ok = stored.status !== 'rejected';
      const ack = this.ack(src, ok, ok ? undefined : { code: HL7_ERROR.DATA_TYPE, message: 'previously rejected' });
      this.deps.onReceived?.(meta, 'duplicate', undefined, {
        messageId: stored.id,
        controlId: msg.controlId,
        sender,
        type,
        ack: ackCodeOf(ack),
      });
      return { outcome: 'duplicate', ack, messageId: stored.id, controlId: msg.controlId };
    }
    const ack = this.ack(src, true);
    this.deps.onReceived?.(meta, 'accepted', undefined, {
      messageId: stored.id,
      controlId: msg.controlId,
      sender,
      type,
      ack: ackCodeOf(ack),
    });
    this.deps.onAccepted({
      messageId: stored.id,
      partnerId,
      sourceName: meta.sourceName,
      receivedAt,
      facts: conversion ?? routingFactsOf(msg),
      conversion,
      unconverted: result.ok ? undefined : result.reason,
    });
    return { outcome: 'accepted', ack, messageId: stored.id, controlId: msg.controlId };
  }

  private async reject(
    bytes: Buffer,
    hash: string,
    meta: ReceiveMeta,
    src: AckSource,
    reason: string,
    kind: string,
    hl7Code: string,
    location: { segment: string; field?: number } | undefined,
    receivedAt: number,
    msg?: Hl7Message,
  ): Promise<ReceivedMessage> {
    const sender =
      msg?.sender ??
      `${src.sendingApplication.split(src.delimiters.component)[0] ?? ''}^${src.sendingFacility.split(src.delimiters.component)[0] ?? ''}`;
    const input = {
      receivedAt: new Date(receivedAt),
      sourceKind: meta.sourceKind,
      sourceName: meta.sourceName,
      partnerId: meta.partnerId ?? null,
      sender,
      controlId: src.controlId || null,
      messageType: msg?.messageType ?? null,
      triggerEvent: msg?.triggerEvent ?? (src.triggerEvent || null),
      version: msg?.version ?? null,
      contentHash: hash,
      raw: bytes,
      status: 'rejected' as const,
      statusReason: reason,
    };
    const stored = await this.deps.inbound.receive({
      kind: 'hl7v2-rejected',
      key: { sender, controlId: src.controlId, contentHash: hash },
      input,
    });
    const ack = this.ack(
      src,
      false,
      { code: hl7Code, message: reason, location },
      kind === 'parse' || kind === 'not-accepted' || kind === 'sender',
    );
    const type = `${msg?.messageType ?? ''}^${msg?.triggerEvent ?? src.triggerEvent ?? ''}`;
    this.deps.onReceived?.(meta, stored.duplicate ? 'duplicate' : 'rejected', kind, {
      messageId: stored.id,
      controlId: src.controlId,
      sender,
      type,
      ack: ackCodeOf(ack),
      reason,
    });
    return {
      outcome: 'rejected',
      ack,
      messageId: stored.id,
      controlId: src.controlId,
      reason,
    };
  }

  /**
   * Original mode: AA, or AE (content error) / AR (rejected: unreadable, or refused by the source's accept policy).
   * Enhanced mode (MSH-15 present): the commit ACK CA/CE/CR, sent only when MSH-15 asks for it.
   */
  private ack(
    src: AckSource,
    ok: boolean,
    error?: { code: string; message?: string; location?: { segment: string; field?: number } },
    reject = false,
  ): string | undefined {
    const mode = ackModeOf(src);
    let code: AckCode;
    if (mode.mode === 'enhanced') {
      if (!ackWanted(mode.accept, ok)) return undefined;
      code = ok ? 'CA' : reject ? 'CR' : 'CE';
    } else {
      code = ok ? 'AA' : reject ? 'AR' : 'AE';
    }
    return buildAck(src, { code, error: error ? { code: error.code, message: error.message, location: error.location } : undefined });
  }
}

/** MSA-1 of an ACK built here (`none` when no ACK is sent), read back rather than threaded through. */
function ackCodeOf(ack: string | undefined): string {
  if (ack === undefined) return 'none';
  const F = ack[3] ?? '|';
  const at = ack.indexOf(`MSA${F}`);
  if (at < 0) return 'unknown';
  return /^[A-Z]{2}/.exec(ack.slice(at + 4, at + 6))?.[0] ?? 'unknown';
}

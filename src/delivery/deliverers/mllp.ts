/**
 * The `mllp` destination type (MLLP forward): it speaks HL7 v2 only, so every delivery to it, FHIR
 * routes' too, carries the raw message as received. Sent through a sender (src/mllp's client, one
 * per destination, opened by the outbox; tests inject their own) and judged by the ACK's MSA-1.
 *
 * Policy (HL7 v2.5.1 ch. 2, acknowledgment modes), overridable per destination via ackPolicy:
 * - AA, CA: delivered.
 * - AE (application error) and CE (commit error): retry. The standard asks the sender to correct
 *   the problem first, but receivers commonly answer AE for transient internal failures; retries
 *   are bounded by maxAttempts, after which the message is a dead letter for a human anyway.
 * - AR (application reject): the standard uses AR both for "MSH-9/11/12 not acceptable" (resending
 *   cannot help) and for "problem unrelated to the message, e.g. system down" (resend later,
 *   unchanged). We retry, unless ERR names error 200-203 (unsupported message type, event,
 *   processing id, version): those are fatal.
 * - CR (commit reject): only defined for unacceptable MSH-9/11/12, so fatal.
 * - No MSA, an unknown code, or an ACK for another control id (the link is out of step): retry.
 * - Timeout: retry. The sender must drop that connection, or a late ACK would be read as the
 *   answer to the next message (the MSA-2 check also catches that).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { clientTls, deliveryBase } from '../../config/schema/destination-fields.js';
import { host, int, port } from '../../config/schema/primitives.js';
import { MllpClient } from '../../mllp/client.js';
import type { Deliverer, DeliveryOutcome } from '../types.js';
import { controlIdOf, parseAck } from '../mllp-ack.js';
import { describeTransportError } from '../http-outcome.js';
import { defineDestination, unusable } from './module.js';

const schema = z.strictObject({
  ...deliveryBase,
  type: z.literal('mllp'),
  host: host(),
  port: port().refine((p) => p !== 0, 'must be a port number 1..65535'),
  tls: clientTls.optional(),
  /** How long to wait for the ACK; a timeout is retried. */
  ackTimeoutMs: int(1).default(30_000),
});

/** How an MLLP acknowledgment code is treated when it is not AA/CA. */
export type AckDisposition = 'retry' | 'fatal';

export interface MllpDestination {
  type: 'mllp';
  id: string;
  /** How long to wait for the ACK; a timeout is retried. */
  timeoutMs?: number;
  host: string;
  port: number;
  /** Overrides of the default policy (AE/CE/AR retry, CR fatal; see the module comment). */
  ackPolicy?: Partial<Record<'AE' | 'AR' | 'CE' | 'CR', AckDisposition>>;
}

export const DEFAULT_MLLP_TIMEOUT_MS = 30_000;

/** Sends one framed-by-the-client message and resolves with the ACK message bytes (unframed). */
export type MllpSend = (message: Buffer, destination: MllpDestination, signal: AbortSignal) => Promise<Buffer>;

declare module '../types.js' {
  interface DelivererDependencies {
    /** The MLLP transport; without it an mllp delivery is fatal ("no MLLP client configured"). */
    mllpSend?: MllpSend;
  }
}

const DEFAULT_ACK_POLICY: Record<'AE' | 'AR' | 'CE' | 'CR', AckDisposition> = { AE: 'retry', CE: 'retry', AR: 'retry', CR: 'fatal' };
const UNSUPPORTED_HEADER_ERRORS = new Set(['200', '201', '202', '203']);

/** HL7 v2 text (utf-8 encoded) or the original bytes (preferred: keeps the sender's charset). */
export type MllpPayload = string | Buffer;

export function createMllpDeliverer(send: MllpSend): Deliverer<MllpPayload, MllpDestination> {
  return async (payload, destination): Promise<DeliveryOutcome> => {
    const timeoutMs = destination.timeoutMs ?? DEFAULT_MLLP_TIMEOUT_MS;
    const message = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const expectedControlId = controlIdOf(message.toString('latin1'));
    const started = performance.now();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let ackBytes: Buffer;
    try {
      ackBytes = await Promise.race([
        send(message, destination, controller.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const err = new Error('ack timeout');
            err.name = 'TimeoutError';
            controller.abort(err);
            reject(err);
          }, timeoutMs);
        }),
      ]);
    } catch (err) {
      return { kind: 'retry', error: describeTransportError(err, timeoutMs), durationMs: performance.now() - started };
    } finally {
      clearTimeout(timer);
    }
    const durationMs = performance.now() - started;

    // latin1 keeps every byte; MSA/ERR content we read is ASCII in any HL7 charset.
    const ack = parseAck(ackBytes.toString('latin1'));
    if (!ack) return { kind: 'retry', error: 'reply has no MSA segment', durationMs };
    if (expectedControlId && ack.controlId && ack.controlId !== expectedControlId) {
      return { kind: 'retry', status: ack.code, error: 'ACK is for a different control id', durationMs };
    }
    if (ack.code === 'AA' || ack.code === 'CA') return { kind: 'delivered', status: ack.code, durationMs };
    if (!isNegativeCode(ack.code)) return { kind: 'retry', error: 'unrecognized acknowledgment code', durationMs };

    const override = destination.ackPolicy?.[ack.code];
    const disposition =
      override ??
      (ack.code === 'AR' && ack.errorCodes.some((c) => UNSUPPORTED_HEADER_ERRORS.has(c)) ? 'fatal' : DEFAULT_ACK_POLICY[ack.code]);
    const codes = ack.errorCodes.length ? ` (ERR ${ack.errorCodes.join(',')})` : '';
    return { kind: disposition, status: ack.code, error: `negative acknowledgment ${ack.code}${codes}`, durationMs };
  };
}

function isNegativeCode(code: string): code is 'AE' | 'AR' | 'CE' | 'CR' {
  return code === 'AE' || code === 'AR' || code === 'CE' || code === 'CR';
}

/** One client per destination: it serializes sends, which keeps the order per destination. */
function openClient(config: z.output<typeof schema>) {
  let client: MllpClient | undefined;
  const tls = config.tls;
  const mllpSend: MllpSend = (message, destination) => {
    client ??= new MllpClient({
      host: destination.host,
      port: destination.port,
      ackTimeoutMs: destination.timeoutMs,
      tls: tls
        ? {
            ca: tls.ca ? readFileSync(tls.ca) : undefined,
            cert: tls.cert ? readFileSync(tls.cert) : undefined,
            key: tls.key ? readFileSync(tls.key) : undefined,
            servername: tls.servername,
            rejectUnauthorized: tls.rejectUnauthorized,
          }
        : undefined,
    });
    return client.send(message);
  };
  return { deps: { mllpSend }, close: async () => void (await client?.close().catch(() => {})) };
}

/** Deliverers by sender, so a delivery does not build one. */
const deliverers = new WeakMap<MllpSend, Deliverer<MllpPayload, MllpDestination>>();

export const mllpDestination = defineDestination({
  type: 'mllp',
  schema,
  accepts: ['hl7v2'],
  rawOnly: true,
  render: () => ({ skip: 'an MLLP destination takes the raw HL7 v2 message only' }),
  toRuntime: (d): MllpDestination => ({ type: d.type, id: d.id, host: d.host, port: d.port, timeoutMs: d.ackTimeoutMs }),
  deliver(payload, destination, ctx, deps) {
    const send = deps.mllpSend;
    if (!send) return Promise.resolve(unusable('no MLLP client configured'));
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload))
      return Promise.resolve(unusable('MLLP payload must be HL7 v2 text or bytes'));
    let deliver = deliverers.get(send);
    if (!deliver) deliverers.set(send, (deliver = createMllpDeliverer(send)));
    return deliver(payload, destination, ctx);
  },
  open: openClient,
});

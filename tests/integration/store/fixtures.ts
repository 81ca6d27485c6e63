import type { InboundInput } from '../../../src/store/types.js';

// Inputs shared by the store contract suites: a fixed clock and a small, realistic ADT message.

const T0 = Date.parse('2025-03-01T12:00:00.000Z');
export const at = (minutes: number): Date => new Date(T0 + minutes * 60_000);

/** A small ADT with a Latin-1 byte (0xE9) so "exact bytes" is really tested, not UTF-8 round trips. */
export function hl7(controlId: string, event = 'A01', extra = ''): Buffer {
  const text =
    `MSH|^~\\&|EPIC|GENHOSP|CB|CP|20250301120000||ADT^${event}|${controlId}|P|2.5.1\r` +
    `PID|1||MRN-${controlId}^^^GENHOSP^MR||DOE^JOHN\r${extra}`;
  return Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from([0xe9, 0x0d])]);
}

let seqNo = 0;
/** A received-message input with a fresh control id (and so a fresh dedupe key) unless overridden. */
export function msg(over: Partial<InboundInput> = {}): InboundInput {
  const controlId = over.controlId ?? `C${++seqNo}`;
  const raw = over.raw ?? hl7(controlId, over.triggerEvent ?? 'A01');
  return {
    sourceKind: 'mllp',
    sourceName: 'adt-in',
    partnerId: 'genhosp',
    sender: 'EPIC^GENHOSP',
    controlId,
    messageType: 'ADT',
    triggerEvent: 'A01',
    version: '2.5.1',
    dedupeKey: `EPIC^GENHOSP|${controlId}`,
    raw,
    receivedAt: at(0),
    ...over,
  };
}

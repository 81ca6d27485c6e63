/**
 * One entry point for the gateway's processor: pick the deliverer by destination type and coerce
 * the stored payload to what it needs (FHIR payloads may come from the store as JSON text).
 */
import type { Bundle } from 'fhir/r4';
import type { DeliveryContext, DeliveryOutcome, DestinationConfig } from '../types.js';
import { deliverFhirTransaction } from './fhir.js';
import { deliverFhirMessage } from './fhir-messaging.js';
import { createMllpDeliverer, type MllpSend } from './mllp.js';
import { deliverSftp } from './sftp.js';
import { deliverWebhook } from './webhook.js';

export { deliverWebhook } from './webhook.js';
export { deliverFhirTransaction, toConditionalTransaction } from './fhir.js';
export { deliverFhirMessage } from './fhir-messaging.js';
export { createMllpDeliverer, type MllpSend } from './mllp.js';
export { deliverSftp, sftpFileFor, type SftpFile } from './sftp.js';

export interface DelivererDependencies {
  /** Required only if an `mllp` destination is configured. */
  mllpSend?: MllpSend;
}

export type DeliverAny = (payload: unknown, destination: DestinationConfig, ctx: DeliveryContext) => Promise<DeliveryOutcome>;

export function createDeliverer(deps: DelivererDependencies = {}): DeliverAny {
  const mllp = deps.mllpSend ? createMllpDeliverer(deps.mllpSend) : undefined;
  return async (payload, destination, ctx) => {
    switch (destination.type) {
      case 'webhook':
        // Bytes are the raw HL7 v2 message of a passthrough route (sent as application/hl7-v2).
        if (Buffer.isBuffer(payload)) return deliverWebhook(payload, destination, ctx);
        if (typeof payload !== 'string' && (typeof payload !== 'object' || payload === null)) return unusable('webhook payload must be JSON');
        return deliverWebhook(payload, destination, ctx);
      case 'fhir': {
        const bundle = asBundle(payload);
        return bundle ? deliverFhirTransaction(bundle, destination, ctx) : unusable('FHIR payload is not a Bundle');
      }
      case 'fhir-messaging': {
        const bundle = asBundle(payload);
        return bundle ? deliverFhirMessage(bundle, destination, ctx) : unusable('FHIR payload is not a Bundle');
      }
      case 'mllp':
        if (!mllp) return unusable('no MLLP client configured');
        if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return unusable('MLLP payload must be HL7 v2 text or bytes');
        return mllp(payload, destination, ctx);
      case 'sftp':
        return deliverSftp(payload, destination, ctx);
    }
  };
}

/** Retrying cannot fix a payload or wiring problem: fatal, so it surfaces as a dead letter. */
function unusable(error: string): DeliveryOutcome {
  return { kind: 'fatal', error, durationMs: 0 };
}

function asBundle(payload: unknown): Bundle | undefined {
  let value = payload;
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    try {
      value = JSON.parse(value.toString());
    } catch {
      return undefined;
    }
  }
  return value && typeof value === 'object' && (value as { resourceType?: unknown }).resourceType === 'Bundle' ? (value as Bundle) : undefined;
}

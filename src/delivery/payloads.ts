/**
 * What the gateway gives destinations. Producers (the pipeline, care plans, roster notices) say
 * what they have as a `Payload`; the destination's module (deliverers/registry.ts) says whether it
 * takes that kind and renders it as the text stored on the delivery. The config check
 * (src/config/wiring-checks.ts) refuses wiring a destination to a kind it does not take.
 */
import type { Bundle, Patient } from 'fhir/r4';
import type { Conversion } from '../conversion/types.js';

export const PAYLOAD_KINDS = ['hl7v2', 'fhir-bundle', 'careplan', 'status-file', 'roster-notice'] as const;
export type PayloadKind = (typeof PAYLOAD_KINDS)[number];

/** How a kind is named in config problems and logs. */
export const PAYLOAD_KIND_NAMES: Readonly<Record<PayloadKind, string>> = {
  hl7v2: 'raw HL7 v2',
  'fhir-bundle': 'FHIR',
  careplan: 'care plans',
  'status-file': 'a status file',
  'roster-notice': 'roster notices',
};

/**
 * A payload to render for a destination. `hl7v2` (the raw message as received, a passthrough
 * route's payload) is never rendered: nothing is stored on the delivery and the deliverer reads the
 * message from the store.
 */
export type Payload =
  /** A routed message as FHIR: an HL7 v2 event's conversion, or FHIR received as is (no conversion). */
  | { kind: 'fhir-bundle'; json(): string; conversion?: Conversion }
  /** A care plan or a sign-off outcome: a Bundle, with the file name it has where files are dropped. */
  | { kind: 'careplan'; bundle: Bundle; fileName: string }
  /** The weekly care-plan status file: CSV, or the Bundle carrying it as a Binary. */
  | { kind: 'status-file'; fileName: string; csv(): string; bundle(): Bundle }
  /** A newly assigned member. */
  | { kind: 'roster-notice'; patient: Patient };

/** Why a destination gets nothing for a payload (a message's filtered reason when nothing else got it). */
export interface Skip {
  skip: string;
}

/** The text to store on the delivery, or why there is none. */
export type Rendered = string | Skip;

/** The rendering of destinations that take JSON: the Bundle, or the lone resource. */
export function renderJson(payload: Payload): string {
  switch (payload.kind) {
    case 'fhir-bundle':
      return payload.json();
    case 'careplan':
      return JSON.stringify(payload.bundle);
    case 'status-file':
      return JSON.stringify(payload.bundle());
    case 'roster-notice':
      return JSON.stringify(payload.patient);
  }
}

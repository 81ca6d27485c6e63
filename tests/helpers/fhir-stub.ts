/**
 * A local FHIR R4 server for tests (node:http on 127.0.0.1, free port). It stores resources,
 * honours conditional update by identifier (alone or inside a transaction), answers
 * $process-message, validates what it receives, and can be told to fail the next N requests:
 * any status, 429 with Retry-After, hang until the client gives up, or reset the connection.
 *
 * Validation is basic (JSON, resourceType, Bundle type, entries with fullUrl + resource,
 * transaction entries with request, message Bundles starting with a MessageHeader); pass
 * `validate` to add full validation (e.g. FHIR.js or @medplum/core) per received resource.
 *
 * The failure injection (FailureQueue, applyFailure) is shared with webhook-stub.ts.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, BundleEntry, Identifier, MessageHeader, OperationOutcome, Resource } from 'fhir/r4';

export type InjectedFailure =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: 'throttle'; retryAfterSec: number }
  | { kind: 'hang' }
  | { kind: 'reset' };

/** The next requests to fail, in order; each request consumes one. */
export class FailureQueue {
  private readonly queue: InjectedFailure[] = [];

  failNext(count: number, failure: InjectedFailure): void {
    for (let i = 0; i < count; i++) this.queue.push(failure);
  }

  take(): InjectedFailure | undefined {
    return this.queue.shift();
  }

  get pending(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue.length = 0;
  }
}

/** Acts out a failure on a request whose body was already read. */
export function applyFailure(failure: InjectedFailure, req: IncomingMessage, res: ServerResponse): void {
  switch (failure.kind) {
    case 'status':
      sendJson(res, failure.status, failure.body ?? outcome('error', 'exception', `injected ${failure.status}`), failure.headers);
      return;
    case 'throttle':
      sendJson(res, 429, outcome('error', 'throttled', 'slow down'), { 'retry-after': String(failure.retryAfterSec) });
      return;
    case 'hang':
      // Never answer; the client times out. close() tears the socket down.
      return;
    case 'reset':
      req.socket.resetAndDestroy();
      return;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export function outcome(severity: 'error' | 'information', code: string, diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code: code as 'exception', diagnostics }] };
}

export interface RecordedRequest {
  method: string;
  /** Path and query, relative to the server root (e.g. `/fhir/$process-message`). */
  url: string;
  headers: IncomingMessage['headers'];
  body?: unknown;
}

export interface FhirStubOptions {
  /** Extra validation per received resource (each Bundle entry and the body itself); return problems. */
  validate?: (resource: Resource) => string[];
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  requiredBearer?: string;
}

export interface FhirStub {
  /** `http://127.0.0.1:<port>/fhir` */
  readonly baseUrl: string;
  readonly failures: FailureQueue;
  /** Every request, including failed and rejected ones. */
  readonly requests: RecordedRequest[];
  /** Stored resources by `Type/id`. */
  readonly resources: Map<string, Resource>;
  /** Accepted $process-message Bundles, in arrival order. */
  readonly messages: Bundle[];
  /** How often each message (by Bundle.id) was accepted: >1 means a duplicate delivery. */
  readonly messageCounts: Map<string, number>;
  /** Answer code put in the MessageHeader of $process-message responses. Default ok. */
  messageResponseCode: 'ok' | 'transient-error' | 'fatal-error';
  failNext(count: number, failure: InjectedFailure): void;
  /** Resources of a type carrying identifier system|value. */
  findByIdentifier(resourceType: string, system: string, value: string): Resource[];
  close(): Promise<void>;
}

type Problem = { status: number; message: string };

export async function startFhirStub(options: FhirStubOptions = {}): Promise<FhirStub> {
  const failures = new FailureQueue();
  const requests: RecordedRequest[] = [];
  const resources = new Map<string, Resource>();
  const messages: Bundle[] = [];
  const messageCounts = new Map<string, number>();

  const findByIdentifier = (resourceType: string, system: string, value: string): Resource[] =>
    [...resources.values()].filter(
      (r) => r.resourceType === resourceType && identifiersOf(r).some((id) => id.system === system && id.value === value),
    );

  const stub: FhirStub = {
    baseUrl: '',
    failures,
    requests,
    resources,
    messages,
    messageCounts,
    messageResponseCode: 'ok',
    failNext: (count, failure) => failures.failNext(count, failure),
    findByIdentifier,
    close: () => closeServer(server),
  };

  const store = (resource: Resource, id: string): { created: boolean; versionId: string } => {
    const key = `${resource.resourceType}/${id}`;
    const previous = resources.get(key);
    const versionId = String(Number(previous?.meta?.versionId ?? '0') + 1);
    resources.set(key, { ...resource, id, meta: { ...resource.meta, versionId, lastUpdated: new Date().toISOString() } });
    return { created: !previous, versionId };
  };

  /** Resolves the target id of a write; a Problem for ambiguous conditional matches. */
  const targetId = (resource: Resource, method: string, url: URL): string | Problem => {
    const [, type, id] = url.pathname.replace(/^\/fhir\/?/, '/').split('/');
    if (type !== resource.resourceType) return { status: 400, message: `URL type ${type} does not match ${resource.resourceType}` };
    if (method === 'POST') return randomUUID();
    if (id) return id;
    const token = url.searchParams.get('identifier');
    if (!token || !token.includes('|')) return { status: 400, message: 'conditional update needs identifier=system|value' };
    const [system, value] = splitToken(token);
    const matches = findByIdentifier(type, system, value);
    if (matches.length > 1) return { status: 412, message: 'identifier matches several resources' };
    return matches[0]?.id ?? resource.id ?? randomUUID();
  };

  const problems = (resource: unknown): string[] => {
    const found = basicProblems(resource);
    if (found.length || !options.validate) return found;
    const all = [resource as Resource, ...(((resource as Bundle).entry ?? []).map((e) => e.resource).filter(Boolean) as Resource[])];
    return all.flatMap((r) => options.validate!(r));
  };

  const handleTransaction = (bundle: Bundle, res: ServerResponse) => {
    if (bundle.type !== 'transaction') return sendJson(res, 400, outcome('error', 'invalid', `expected a transaction, got ${bundle.type}`));
    const entries = bundle.entry ?? [];
    const planned: Array<{ entry: BundleEntry; id: string }> = [];
    const fullUrlToRef = new Map<string, string>();
    for (const entry of entries) {
      const resource = entry.resource!;
      const url = new URL(entry.request!.url, 'http://stub/fhir/');
      const id = targetId(resource, entry.request!.method, url);
      if (typeof id !== 'string') return sendJson(res, id.status, outcome('error', 'processing', id.message));
      planned.push({ entry, id });
      if (entry.fullUrl) fullUrlToRef.set(entry.fullUrl, `${resource.resourceType}/${id}`);
    }
    // All checks passed: apply atomically, pointing intra-bundle references at the assigned ids.
    const responseEntries = planned.map(({ entry, id }) => {
      const resource = rewriteReferences(entry.resource!, fullUrlToRef);
      const { created, versionId } = store(resource, id);
      return { response: { status: created ? '201 Created' : '200 OK', location: `${resource.resourceType}/${id}/_history/${versionId}` } };
    });
    sendJson(res, 200, { resourceType: 'Bundle', type: 'transaction-response', entry: responseEntries });
  };

  const handleProcessMessage = (bundle: Bundle, res: ServerResponse) => {
    if (bundle.type !== 'message') return sendJson(res, 400, outcome('error', 'invalid', 'expected a message Bundle'));
    const header = bundle.entry![0].resource as MessageHeader;
    messages.push(bundle);
    const key = bundle.id ?? header.id ?? '(no id)';
    messageCounts.set(key, (messageCounts.get(key) ?? 0) + 1);
    const responseHeader: MessageHeader = {
      resourceType: 'MessageHeader',
      eventCoding: header.eventCoding,
      source: { endpoint: stub.baseUrl },
      response: { identifier: header.id ?? key, code: stub.messageResponseCode },
    };
    const response: Bundle = {
      resourceType: 'Bundle',
      id: randomUUID(),
      type: 'message',
      timestamp: new Date().toISOString(),
      entry: [
        {
          fullUrl: `urn:uuid:${randomUUID()}`,
          resource: responseHeader,
        },
      ],
    };
    sendJson(res, 200, response);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const text = await readBody(req);
    let body: unknown;
    let parseError = false;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        parseError = true;
      }
    }
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });

    const failure = failures.take();
    if (failure) return applyFailure(failure, req, res);
    if (options.requiredBearer && req.headers.authorization !== `Bearer ${options.requiredBearer}`) {
      return sendJson(res, 401, outcome('error', 'login', 'missing or wrong bearer token'));
    }
    const url = new URL(req.url ?? '/', 'http://stub');
    if (!url.pathname.startsWith('/fhir')) return sendJson(res, 404, outcome('error', 'not-found', 'no such endpoint'));
    const path = url.pathname.replace(/^\/fhir\/?/, '');
    const method = req.method ?? 'GET';

    if (method === 'GET') {
      const [type, id] = path.split('/');
      if (id) {
        const found = resources.get(`${type}/${id}`);
        return found ? sendJson(res, 200, found) : sendJson(res, 404, outcome('error', 'not-found', 'unknown resource'));
      }
      const token = url.searchParams.get('identifier');
      const [system, value] = token ? splitToken(token) : ['', ''];
      const matches = token ? findByIdentifier(type, system, value) : [...resources.values()].filter((r) => r.resourceType === type);
      return sendJson(res, 200, {
        resourceType: 'Bundle',
        type: 'searchset',
        total: matches.length,
        entry: matches.map((resource) => ({ resource })),
      });
    }

    if (parseError) return sendJson(res, 400, outcome('error', 'structure', 'body is not JSON'));
    const found = problems(body);
    if (found.length) return sendJson(res, 422, outcome('error', 'invalid', found.join('; ')));
    const resource = body as Resource;

    if (method === 'POST' && path === '$process-message') return handleProcessMessage(resource as Bundle, res);
    if (method === 'POST' && path === '') return handleTransaction(resource as Bundle, res);
    if (method === 'PUT' || method === 'POST') {
      const id = targetId(resource, method, url);
      if (typeof id !== 'string') return sendJson(res, id.status, outcome('error', 'processing', id.message));
      const { created } = store(resource, id);
      return sendJson(res, created ? 201 : 200, resources.get(`${resource.resourceType}/${id}`));
    }
    sendJson(res, 405, outcome('error', 'not-supported', `${method} not supported`));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, outcome('error', 'exception', 'stub error'));
    });
  });
  const port = await listenOnLoopback(server);
  (stub as { baseUrl: string }).baseUrl = `http://127.0.0.1:${port}/fhir`;
  return stub;
}

const BUNDLE_TYPES = new Set([
  'document',
  'message',
  'transaction',
  'transaction-response',
  'batch',
  'batch-response',
  'history',
  'searchset',
  'collection',
]);

/** The checks every request body gets. */
export function basicProblems(value: unknown): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return ['body is not a JSON object'];
  const resource = value as { resourceType?: unknown };
  if (typeof resource.resourceType !== 'string' || !/^[A-Z][A-Za-z]+$/.test(resource.resourceType))
    return ['missing or invalid resourceType'];
  if (resource.resourceType !== 'Bundle') return [];
  const bundle = value as Bundle;
  const found: string[] = [];
  if (!BUNDLE_TYPES.has(bundle.type)) found.push(`invalid Bundle.type ${String(bundle.type)}`);
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) return [...found, 'Bundle.entry is not an array'];
  (bundle.entry ?? []).forEach((entry, i) => {
    if (typeof entry.fullUrl !== 'string' || !entry.fullUrl) found.push(`entry[${i}] has no fullUrl`);
    const r = entry.resource as { resourceType?: unknown } | undefined;
    if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string') found.push(`entry[${i}] has no resource`);
    if (bundle.type === 'transaction' && (!entry.request?.method || !entry.request?.url)) found.push(`entry[${i}] has no request`);
  });
  if (bundle.type === 'message' && bundle.entry?.[0]?.resource?.resourceType !== 'MessageHeader') {
    found.push('message Bundle does not start with a MessageHeader');
  }
  return found;
}

function identifiersOf(resource: Resource): Identifier[] {
  const ids = (resource as { identifier?: Identifier | Identifier[] }).identifier;
  return Array.isArray(ids) ? ids : ids ? [ids] : [];
}

function splitToken(token: string): [string, string] {
  const bar = token.indexOf('|');
  return [token.slice(0, bar), token.slice(bar + 1)];
}

/** Deep copy with `reference` values that name a bundle fullUrl replaced by Type/id. */
function rewriteReferences<T>(value: T, map: Map<string, string>): T {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, map)) as T;
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = key === 'reference' && typeof v === 'string' && map.has(v) ? map.get(v) : rewriteReferences(v, map);
  }
  return out as T;
}

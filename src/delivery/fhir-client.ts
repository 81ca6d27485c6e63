/**
 * Small typed wrapper around fhir-kit-client: only the interactions delivery uses, errors turned
 * into values (never thrown), status and Retry-After surfaced. fhir-kit throws an Error carrying
 * `response.status` / `config.headers` for HTTP errors and fetch's TypeError for transport errors.
 *
 * fhir-kit-client is loaded at the first delivery (openFhirClient), not when the config, whose
 * schema comes from the destination modules, is loaded.
 */
import type { Client } from 'fhir-kit-client';
import type { Bundle, Resource } from 'fhir/r4';

export interface FhirClientOptions {
  baseUrl: string;
  bearerToken?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
}

export type FhirResult<T extends Resource = Resource> =
  | { ok: true; status: number; resource?: T }
  | { ok: false; status: number; retryAfter?: string | null; resource?: Resource }
  | { ok: false; status?: undefined; transportError: unknown };

type ClientClass = typeof Client;
let fhirKit: Promise<ClientClass> | undefined;

export async function openFhirClient(options: FhirClientOptions): Promise<FhirClient> {
  const kit = await (fhirKit ??= import('fhir-kit-client').then((m) => m.Client));
  return new FhirClient(options, kit);
}

export class FhirClient {
  private readonly client: Client;

  constructor(
    private readonly options: FhirClientOptions,
    private readonly kit: ClientClass,
  ) {
    this.client = new kit({
      baseUrl: options.baseUrl,
      customHeaders: { 'user-agent': 'carebridge', ...options.headers },
      ...(options.bearerToken ? { bearerToken: options.bearerToken } : {}),
    });
  }

  /** POST [base] with a transaction Bundle. */
  transaction(bundle: Bundle): Promise<FhirResult<Bundle>> {
    return this.run<Bundle>(() => this.client.transaction({ body: asFhirKit(bundle), options: this.requestOptions() }));
  }

  /** POST [base]/$process-message with a message Bundle. */
  processMessage(bundle: Bundle): Promise<FhirResult<Bundle>> {
    return this.run<Bundle>(() =>
      this.client.operation({ name: '$process-message', method: 'POST', input: asFhirKit(bundle), options: this.requestOptions() }),
    );
  }

  private requestOptions() {
    return { signal: AbortSignal.timeout(this.options.timeoutMs) };
  }

  private async run<T extends Resource>(call: () => Promise<Record<string, unknown>>): Promise<FhirResult<T>> {
    try {
      const result = await call();
      const status = this.kit.httpFor(result as never).response?.status ?? 200;
      return { ok: true, status, resource: result as unknown as T };
    } catch (err) {
      const http = err as { response?: { status?: unknown; data?: unknown }; config?: { headers?: { get?(name: string): string | null } } };
      const status = http.response?.status;
      if (typeof status !== 'number') return { ok: false, transportError: err };
      const data = http.response?.data;
      const resource = data && typeof data === 'object' && 'resourceType' in data ? (data as Resource) : undefined;
      // fhir-kit also throws on a 2xx whose body is not JSON; the server did accept it.
      if (status >= 200 && status < 300) return { ok: true, status };
      return { ok: false, status, retryAfter: http.config?.headers?.get?.('retry-after') ?? null, resource };
    }
  }
}

function asFhirKit<T extends Resource>(resource: T): T & Record<string, unknown> {
  return resource as T & Record<string, unknown>;
}

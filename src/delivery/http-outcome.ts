/**
 * Turns HTTP answers and transport errors into DeliveryOutcomes. Each deliverer supplies its own
 * status policy; network failures are classified the same everywhere (always retryable).
 */
import type { DeliveryOutcome } from './types.js';

/** Which statuses retry; everything else that is not 2xx is fatal. */
export type RetryableStatusPolicy = (status: number) => boolean;

/** Webhooks and FHIR messaging: timeouts, throttling and server errors are worth another try. */
export const retryTransientStatuses: RetryableStatusPolicy = (status) => status === 408 || status === 429 || status >= 500;

/**
 * Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Returns ms, or
 * undefined when absent or unparseable (then our own backoff applies).
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export function outcomeForStatus(
  status: number,
  durationMs: number,
  isRetryable: RetryableStatusPolicy,
  retryAfter?: string | null,
): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status, durationMs };
  const retryAfterMs = parseRetryAfter(retryAfter);
  const kind = isRetryable(status) ? 'retry' : 'fatal';
  const error = status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`;
  return retryAfterMs === undefined ? { kind, status, error, durationMs } : { kind, status, error, retryAfterMs, durationMs };
}

/**
 * A request that never produced a status: timeout, refused, reset, DNS... always retryable.
 * The message names the cause only (no URL with possible query data, no payload).
 */
export function outcomeForTransportError(err: unknown, durationMs: number, timeoutMs: number): DeliveryOutcome {
  return { kind: 'retry', error: describeTransportError(err, timeoutMs), durationMs };
}

export function describeTransportError(err: unknown, timeoutMs: number): string {
  if (isTimeout(err)) return `timeout after ${timeoutMs} ms`;
  const code = errorCode(err);
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `connection reset (${code})`;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code) return `network error (${code})`;
  return `network error (${err instanceof Error ? err.name : 'unknown'})`;
}

export function isTimeout(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** fetch wraps the socket error in `cause` (sometimes twice); find the first code. */
function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

// What a log line may say about a caught error: its class and code, never its message (a driver's
// message may quote the value it choked on; that goes to debug only).

export interface FailureFields {
  errorName: string;
  errorCode?: string;
}

export function failureFields(e: unknown): FailureFields {
  if (!(e instanceof Error)) return { errorName: typeof e };
  const code = (e as { code?: unknown }).code;
  return { errorName: e.name, ...(typeof code === 'string' || typeof code === 'number' ? { errorCode: String(code) } : {}) };
}

/**
 * An error that says a dependency failed (a driver or system error with a code: SQLITE_BUSY,
 * ECONNREFUSED, a Postgres SQLSTATE), as opposed to one that says our code is wrong (a TypeError
 * with no code). A catch that answers "unavailable, retry" logs the first at warn and the second at
 * error, so a bug never passes as an outage.
 */
export function isDependencyFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && (typeof code === 'string' || typeof code === 'number');
}

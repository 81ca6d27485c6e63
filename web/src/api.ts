// Every call the pages make: same origin, the session cookie (httpOnly: script never sees it), and
// the session's CSRF token on every action. Patient identifiers go in POST bodies, never in a URL.

export interface Session {
  keyId: string;
  role: 'admin' | 'operator' | 'partner';
  partners: string[];
  partnerNames: Record<string, string>;
  carePartners: string[];
  csrf: string;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrf = '';
let onSignedOut: () => void = () => {};

export function useSession(session: Session | null): void {
  csrf = session?.csrf ?? '';
}

export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

async function failure(res: Response): Promise<ApiFailure> {
  let text = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { issue?: { diagnostics?: string }[] };
    text = body.issue?.[0]?.diagnostics ?? text;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiFailure(res.status, text);
}

export async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let payload: string | undefined;
  if (method !== 'GET') {
    headers['x-csrf-token'] = csrf;
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body ?? {});
  }
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: payload });
  if (res.status === 401 && !path.startsWith('/console/session')) onSignedOut();
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => call<T>('POST', path, body);

/** A query string from defined values only. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export async function signIn(key: string): Promise<Session> {
  return call<Session>('POST', '/console/session', { key });
}

export async function currentSession(): Promise<Session | null> {
  try {
    return await call<Session>('GET', '/console/session');
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) return null;
    throw e;
  }
}

export async function signOut(): Promise<void> {
  await call<void>('POST', '/console/session/sign-out');
}

/** Downloads a file the API answers (the browser saves it; the URL holds no PHI). */
export async function download(path: string, fallbackName: string): Promise<void> {
  const res = await fetch(path, { credentials: 'same-origin' });
  if (!res.ok) throw await failure(res);
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

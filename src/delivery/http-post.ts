/**
 * One HTTP(S) POST over a shared keep-alive agent, for deliverers that only need the status and a
 * few response headers. Cheaper per request than `fetch` (no WHATWG streams, no undici
 * dispatcher layers), which matters at hundreds of deliveries per second on one thread.
 *
 * - The whole exchange (connect, send, response headers, discarding the body) is bounded by
 *   `timeoutMs`; on expiry the request is aborted and the error's name is 'AbortError'.
 * - Redirects are never followed: a 3xx is returned like any other status.
 * - The response body is discarded. At most `maxResponseBytes` are read (so the connection can be
 *   reused); a longer body closes the connection instead of downloading it.
 * - Transport failures reject with Node's error (its `code`: ECONNREFUSED, ECONNRESET, ...).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Enough for any error document a receiver sends; bigger bodies are not worth a socket's reuse. */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export interface PostResult {
  status: number;
  headers: IncomingHttpHeaders;
}

export interface PostOptions {
  timeoutMs: number;
  maxResponseBytes?: number;
}

// LIFO reuses the most recently used sockets, so the surplus ones go idle and time out.
const agents = {
  http: new HttpAgent({ keepAlive: true, scheduling: 'lifo' }),
  https: new HttpsAgent({ keepAlive: true, scheduling: 'lifo' }),
};

export function postBody(url: string | URL, headers: OutgoingHttpHeaders, body: Buffer, options: PostOptions): Promise<PostResult> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const secure = target.protocol === 'https:';
  if (!secure && target.protocol !== 'http:') return Promise.reject(new Error(`unsupported protocol ${target.protocol}`));
  const limit = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const send = secure ? httpsRequest : httpRequest;

  return new Promise<PostResult>((resolve, reject) => {
    const req = send(target, {
      method: 'POST',
      agent: secure ? agents.https : agents.http,
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: { ...headers, 'content-length': body.length },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      // Settled: later errors (abort while discarding, reset) only cost the connection.
      req.off('error', reject);
      req.on('error', () => {});
      res.on('error', () => {});
      let seen = 0;
      res.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > limit) res.destroy();
      });
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.end(body);
  });
}

import type { FastifyRequest, preParsingAsyncHookHandler } from 'fastify';
import { createApiKeyMatcher } from '../config/api-keys.js';
import type { ApiKeyConfig } from '../config/types.js';
import { CodedError } from '../errors/catalogue.js';
import { cookieValue, CSRF_HEADER, csrfMatches, SESSION_COOKIE, type SessionStore } from '../console/sessions.js';
import { forbidden } from './api-error.js';
import type { Principal } from './types.js';

// Per request, not a request decorator: no global FastifyRequest augmentation for one field.
const principals = new WeakMap<FastifyRequest, Principal>();

/** The caller's key; only on routes behind the auth hook. */
export function principalOf(request: FastifyRequest): Principal {
  const p = principals.get(request);
  // A route that asks without the hook in front of it is a wiring bug, not a client error.
  if (!p) throw new Error('route is not behind the API key hook');
  return p;
}

/** `Authorization: Bearer <key>` wins over `X-API-Key: <key>`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m) return m[1];
  }
  const header = request.headers['x-api-key'];
  const value = Array.isArray(header) ? header[0] : header;
  return value ? value.trim() || undefined : undefined;
}

export function toPrincipal(key: ApiKeyConfig): Principal {
  const admin = key.partners.includes('*');
  const role = key.role ?? (admin ? 'admin' : 'partner');
  return { keyId: key.id, admin, role, partners: admin ? [] : [...key.partners] };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** What an operator may POST: operations on the flow (and the console's search), never a partner's own data. */
const OPERATOR_ACTIONS = new Set([
  '/api/messages/:id/replay',
  '/api/deliveries/:id/requeue',
  '/api/destinations/:id/requeue-dead',
  '/api/console/messages/search',
  '/api/console/roster/member',
]);

function checkRole(request: FastifyRequest, who: Principal): void {
  if (who.role !== 'operator' || SAFE_METHODS.has(request.method)) return;
  if (!OPERATOR_ACTIONS.has(request.routeOptions.url ?? ''))
    throw forbidden('an operator key replays and requeues; it does not act for a partner');
}

const unauthorized = (why: string) =>
  new CodedError('CB_UNAUTHENTICATED', why, { headers: { 'www-authenticate': 'Bearer realm="carebridge"' } });

/**
 * The API key check, as a preParsing hook: it runs after the rate limit (onRequest), so a key
 * guesser is throttled before paying for scrypt, and before the body is read, so an unknown
 * caller cannot make the server buffer megabytes.
 */
export function apiKeyHook(keys: readonly ApiKeyConfig[], sessions?: SessionStore): preParsingAsyncHookHandler {
  const matcher = createApiKeyMatcher(keys);
  return async (request, _reply, payload) => {
    const plain = presentedKey(request);
    if (!plain) {
      // The console: a session cookie, and on every action the session's CSRF token in a header
      // (a cross-site form can send the cookie's name but never read or set that header).
      const session = sessions?.get(cookieValue(request.headers.cookie, SESSION_COOKIE));
      if (!session) throw unauthorized('an API key is required (Authorization: Bearer <key> or X-API-Key)');
      if (!SAFE_METHODS.has(request.method) && !csrfMatches(session, request.headers[CSRF_HEADER])) {
        throw forbidden('missing or wrong CSRF token (X-CSRF-Token)');
      }
      checkRole(request, session.principal);
      principals.set(request, session.principal);
      return payload;
    }
    const key = await matcher.match(plain);
    if (!key) throw unauthorized('unknown API key');
    const who = toPrincipal(key);
    checkRole(request, who);
    principals.set(request, who);
    return payload;
  };
}

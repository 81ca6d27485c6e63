import type { FastifyRequest, preParsingAsyncHookHandler } from 'fastify';
import { createApiKeyMatcher } from '../config/api-keys.js';
import type { ApiKeyConfig } from '../config/types.js';
import { CodedError } from '../errors/catalogue.js';
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
  return { keyId: key.id, admin, partners: admin ? [] : [...key.partners] };
}

const unauthorized = (why: string) =>
  new CodedError('CB_UNAUTHENTICATED', why, { headers: { 'www-authenticate': 'Bearer realm="carebridge"' } });

/**
 * The API key check, as a preParsing hook: it runs after the rate limit (onRequest), so a key
 * guesser is throttled before paying for scrypt, and before the body is read, so an unknown
 * caller cannot make the server buffer megabytes.
 */
export function apiKeyHook(keys: readonly ApiKeyConfig[]): preParsingAsyncHookHandler {
  const matcher = createApiKeyMatcher(keys);
  return async (request, _reply, payload) => {
    const plain = presentedKey(request);
    if (!plain) throw unauthorized('an API key is required (Authorization: Bearer <key> or X-API-Key)');
    const key = await matcher.match(plain);
    if (!key) throw unauthorized('unknown API key');
    principals.set(request, toPrincipal(key));
    return payload;
  };
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { createApiKeyMatcher } from '../config/api-keys.js';
import type { GatewayConfig } from '../config/types.js';
import { ApiError } from '../api/api-error.js';
import { toPrincipal } from '../api/auth.js';
import { outcomeRef } from '../api/operation-outcome.js';
import type { Principal } from '../api/types.js';
import { packageRoot } from '../util/package-root.js';
import { cookieValue, CSRF_HEADER, csrfMatches, SESSION_COOKIE, sessionCookie, type SessionStore } from './sessions.js';

/**
 * What the console's pages may load: only this origin's own files, no inline script, no framing.
 * uPlot and Preact set styles through the CSSOM, which style-src does not restrict.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(reply: FastifyReply): void {
  void reply.header('content-security-policy', CONSOLE_CSP);
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'no-referrer');
  void reply.header('x-frame-options', 'DENY');
}

/** The built console (vite): dist/web beside dist/src. */
export function consoleRoot(): string {
  return join(packageRoot(), 'dist', 'web');
}

const sessionSchema = {
  type: 'object',
  properties: {
    keyId: { type: 'string' },
    role: { type: 'string', enum: ['admin', 'operator', 'partner'] },
    partners: { type: 'array', items: { type: 'string' }, description: 'The partners a partner key acts for (empty: all)' },
    partnerNames: { type: 'object', additionalProperties: { type: 'string' } },
    carePartners: {
      type: 'array',
      items: { type: 'string' },
      description: 'Community partners (kind cp) this key may open care-team pages for',
    },
    csrf: { type: 'string', description: 'Send as X-CSRF-Token on every POST/PUT/DELETE' },
  },
} as const;

export interface ConsoleHttpDeps {
  config: GatewayConfig;
  sessions: SessionStore;
  /** Where the built console lives; default dist/web. */
  root?: string;
}

/**
 * The console's own routes: sign in (an API key becomes a session cookie), the session (with its
 * CSRF token), sign out, and the built single-page app at `/`. Everything the pages show comes
 * from /api, with the session cookie instead of an API key.
 */
export function consoleHttp(deps: ConsoleHttpDeps): FastifyPluginAsync {
  const { config, sessions } = deps;
  const matcher = createApiKeyMatcher(config.apiKeys);
  const secure = config.server.http.tls !== undefined;
  const root = deps.root ?? consoleRoot();
  const body = (who: Principal, csrf: string) => ({
    keyId: who.keyId,
    role: who.role,
    partners: [...who.partners],
    partnerNames: Object.fromEntries(Object.entries(config.partners).map(([id, p]) => [id, p.name ?? id])),
    carePartners: Object.entries(config.partners)
      .filter(([id, p]) => p.kind === 'cp' && (who.admin || who.partners.includes(id)))
      .map(([id]) => id),
    csrf,
  });

  return async (app) => {
    app.addHook('onRequest', async (_request, reply) => securityHeaders(reply));

    await app.register(async (session) => {
      // Key guessing through the sign-in form is throttled like the API.
      await session.register(rateLimit, {
        global: true,
        max: config.server.http.rateLimit.max,
        timeWindow: config.server.http.rateLimit.timeWindowMs,
        errorResponseBuilder: (_request, context) =>
          new ApiError(context.statusCode, 'throttled', `too many requests: retry in ${context.after}`),
      });

      session.post(
        '/console/session',
        {
          schema: {
            summary: 'Sign in to the console with an API key: sets the httpOnly SameSite=Strict session cookie',
            tags: ['console'],
            body: {
              type: 'object',
              additionalProperties: false,
              required: ['key'],
              properties: { key: { type: 'string', minLength: 1, maxLength: 500 } },
            },
            response: { 200: sessionSchema, 400: outcomeRef, 401: outcomeRef, 429: outcomeRef },
          },
        },
        async (request, reply) => {
          const key = await matcher.match((request.body as { key: string }).key.trim());
          if (!key) throw new ApiError(401, 'login', 'unknown API key');
          const s = sessions.create(toPrincipal(key));
          request.log.info({ keyId: key.id }, 'console sign-in');
          void reply.header('set-cookie', sessionCookie(s.id, { secure }));
          return body(s.principal, s.csrf);
        },
      );

      session.get(
        '/console/session',
        {
          schema: {
            summary: 'The signed-in console session and its CSRF token (401 when signed out)',
            tags: ['console'],
            response: { 200: sessionSchema, 401: outcomeRef },
          },
        },
        async (request) => {
          const s = sessions.get(cookieValue(request.headers.cookie, SESSION_COOKIE));
          if (!s) throw new ApiError(401, 'login', 'not signed in');
          return body(s.principal, s.csrf);
        },
      );

      session.post(
        '/console/session/sign-out',
        {
          schema: {
            summary: 'Sign out: the session ends on the server and the cookie is cleared (needs X-CSRF-Token)',
            tags: ['console'],
            response: { 204: { type: 'null' }, 403: outcomeRef },
          },
        },
        async (request, reply) => {
          const id = cookieValue(request.headers.cookie, SESSION_COOKIE);
          const s = sessions.get(id);
          if (s) {
            if (!csrfMatches(s, request.headers[CSRF_HEADER]))
              throw new ApiError(403, 'forbidden', 'missing or wrong CSRF token (X-CSRF-Token)');
            sessions.delete(s.id);
            request.log.info({ keyId: s.principal.keyId }, 'console sign-out');
          }
          return reply
            .header('set-cookie', sessionCookie('', { secure, maxAgeSeconds: 0 }))
            .code(204)
            .send();
        },
      );
    });

    if (existsSync(join(root, 'index.html'))) {
      // Hashed asset names never change content: cache them; index.html always revalidates.
      await app.register(fastifyStatic, {
        root,
        prefix: '/',
        wildcard: false,
        index: 'index.html',
        setHeaders: (res, path) => {
          void res.header('cache-control', path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
        },
      });
    } else {
      app.get('/', { schema: { hide: true } }, async (_request, reply) =>
        reply.code(503).type('text/plain; charset=utf-8').send('The console is not built: run `npm run build`.\n'),
      );
    }
  };
}

import type { GatewayConfig } from '../config/types.js';

// Keys whose values are secrets or credentials: never shown, only that they are set.
const SECRET_KEY = /secret|password|passphrase|privatekey|private_key|token|hash|^key$|^cert$|^ca$|authorization|headers|clientsecret/i;

/** A URL without its user info (a password can sit there) and without its query string. */
function safeUrl(text: string): string {
  try {
    const u = new URL(text);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '(set)';
  }
}

function redact(value: unknown, key = ''): unknown {
  if (SECRET_KEY.test(key)) {
    const empty = value === undefined || value === null || value === '' || (typeof value === 'object' && Object.keys(value).length === 0);
    return empty ? undefined : '(set)';
  }
  if (typeof value === 'string') return /url$/i.test(key) || /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? safeUrl(value) : value;
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

/** The configuration an operator may read: partners, sources, destinations and routes, secrets replaced by "(set)". */
export function configView(config: GatewayConfig) {
  return {
    partners: Object.entries(config.partners).map(([id, p]) => redact({ id, ...p }) as Record<string, unknown>),
    sources: config.sources.map((s) => redact(s) as Record<string, unknown>),
    destinations: config.destinations.map((d) => redact(d) as Record<string, unknown>),
    routes: config.routes.map((r) => redact(r) as Record<string, unknown>),
  };
}

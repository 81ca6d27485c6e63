import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../api/types.js';

/** A signed-in console user: the key's principal, and the token every action must echo (CSRF). */
export interface ConsoleSession {
  id: string;
  principal: Principal;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionOptions {
  /** Signed out after this long without a request. Default 30 min. */
  idleMs?: number;
  /** Signed out this long after signing in, whatever happens. Default 12 h. */
  maxAgeMs?: number;
  /** Oldest sessions go first beyond this many. Default 10 000. */
  maxSessions?: number;
  now?: () => number;
}

const token = () => randomBytes(32).toString('base64url');

/**
 * Console sessions, in the gateway's memory: a sign-out or a restart ends them for sure (no token
 * that stays valid somewhere), at the price of one sign-in per gateway process.
 */
export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly idleMs: number;
  private readonly maxAgeMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;

  constructor(options: SessionOptions = {}) {
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.maxAgeMs = options.maxAgeMs ?? 12 * 3_600_000;
    this.maxSessions = options.maxSessions ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  create(principal: Principal): ConsoleSession {
    while (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    const at = this.now();
    const session = { id: token(), principal, csrf: token(), createdAt: at, lastSeenAt: at };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (and it is touched), or undefined. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const at = this.now();
    if (at - s.lastSeenAt > this.idleMs || at - s.createdAt > this.maxAgeMs) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeenAt = at;
    return s;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }
}

/** Constant-time comparison of the CSRF token a request sent with the session's. */
export function csrfMatches(session: ConsoleSession, sent: string | string[] | undefined): boolean {
  const value = Array.isArray(sent) ? sent[0] : sent;
  if (!value) return false;
  const a = Buffer.from(value);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const SESSION_COOKIE = 'carebridge_session';
export const CSRF_HEADER = 'x-csrf-token';

/** One cookie's value from a Cookie header (RFC 6265 pairs; no dependency for one name). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}

/** The Set-Cookie value: httpOnly (no script reads it), SameSite=Strict (no cross-site request carries it). */
export function sessionCookie(value: string, options: { secure: boolean; maxAgeSeconds?: number }): string {
  const parts = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (options.secure) parts.push('Secure');
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  return parts.join('; ');
}

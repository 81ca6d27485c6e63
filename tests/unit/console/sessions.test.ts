import { describe, expect, it } from 'vitest';
import { cookieValue, csrfMatches, sessionCookie, SessionStore } from '../../../src/console/sessions.js';
import type { Principal } from '../../../src/api/types.js';

const who: Principal = { keyId: 'k', admin: true, role: 'admin', partners: [] };

describe('console sessions', () => {
  it('ends a session after the idle time and after the maximum age', () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 100, maxAgeMs: 250, now: () => now });
    const s = store.create(who);
    now = 90;
    expect(store.get(s.id)?.principal).toBe(who);
    now = 180; // 90 since last seen: still alive
    expect(store.get(s.id)).toBeDefined();
    now = 260; // past the maximum age
    expect(store.get(s.id)).toBeUndefined();
    const idle = store.create(who);
    now = 400;
    expect(store.get(idle.id)).toBeUndefined();
  });

  it('forgets the oldest sessions beyond the cap, and a deleted one at once', () => {
    const store = new SessionStore({ maxSessions: 2 });
    const a = store.create(who);
    const b = store.create(who);
    const c = store.create(who);
    expect([store.get(a.id), store.get(b.id)?.id, store.get(c.id)?.id]).toEqual([undefined, b.id, c.id]);
    store.delete(b.id);
    expect(store.get(b.id)).toBeUndefined();
    expect(store.get(undefined)).toBeUndefined();
  });

  it('compares the CSRF token exactly', () => {
    const s = new SessionStore().create(who);
    expect(csrfMatches(s, s.csrf)).toBe(true);
    expect(csrfMatches(s, [s.csrf])).toBe(true);
    expect(csrfMatches(s, `${s.csrf}x`)).toBe(false);
    expect(csrfMatches(s, undefined)).toBe(false);
    expect(csrfMatches(s, '')).toBe(false);
  });

  it('reads one cookie from a Cookie header and writes an httpOnly SameSite=Strict one', () => {
    expect(cookieValue('a=1; carebridge_session=abc; b="q"', 'carebridge_session')).toBe('abc');
    expect(cookieValue('x_carebridge_session=no; carebridge_session="quoted"', 'carebridge_session')).toBe('quoted');
    expect(cookieValue('junk; other=1', 'carebridge_session')).toBeUndefined();
    expect(cookieValue(undefined, 'carebridge_session')).toBeUndefined();
    expect(sessionCookie('v', { secure: false })).toBe('carebridge_session=v; Path=/; HttpOnly; SameSite=Strict');
    expect(sessionCookie('', { secure: true, maxAgeSeconds: 0 })).toBe(
      'carebridge_session=; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0',
    );
  });
});

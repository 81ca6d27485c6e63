/**
 * Issue 11.10: the answers at the edges are OperationOutcomes that say what is wrong: an
 * over-long URL (414), a malformed URL, and an unknown route (its method and path, never its
 * query string, which may carry identifiers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, harness, type Harness, KEYS } from './fixtures.js';

describe('edge errors are OperationOutcomes (issue 11.10)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(() => h.close());

  const outcome = (code: string, diagnostics: RegExp | string) => ({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics: typeof diagnostics === 'string' ? diagnostics : expect.stringMatching(diagnostics) }],
  });

  it('an over-long URL gets 414 with an OperationOutcome that does not echo it', async () => {
    const long = 'MRN123456'.repeat(40);
    const res = await h.app.inject({ method: 'GET', url: `/api/messages/${long}`, headers: auth(KEYS.admin) });
    expect(res.statusCode).toBe(414);
    expect(res.headers['content-type']).toMatch(/application\/fhir\+json/);
    expect(res.json()).toEqual(outcome('too-long', /URL is too long/));
    expect(res.body).not.toContain('MRN123456');
  });

  it('a malformed URL gets 400 with an OperationOutcome', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/messages/%zz', headers: auth(KEYS.admin) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(outcome('invalid', /not a valid URL/));
  });

  it('an unknown route names the method and the path, not the query string', async () => {
    const res = await h.app.inject({ method: 'DELETE', url: '/api/nowhere/else?identifier=urn:mrn|MRN123456' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'not-found', diagnostics: 'no such route: DELETE /api/nowhere/else' }],
    });
    expect(res.body).not.toContain('MRN123456');
  });
});

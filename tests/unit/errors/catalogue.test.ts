import { describe, expect, it } from 'vitest';
import { CodedError, codeForStatus, ERROR_CODE_SYSTEM, ERRORS, type ErrorCode } from '../../../src/errors/catalogue.js';

describe('error catalogue', () => {
  it('gives every code an HTTP error status, a FHIR issue type and a text', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^CB_[A-Z0-9_]+$/);
      expect(spec.status, code).toBeGreaterThanOrEqual(400);
      expect(spec.status, code).toBeLessThan(600);
      expect(spec.text.length, code).toBeGreaterThan(0);
    }
  });

  it('a CodedError carries its OperationOutcome, naming its code', () => {
    const e = new CodedError('CB_CAREPLAN_INVALID', 'the care plan is not acceptable', { details: ['subject is missing'] });
    expect(e.statusCode).toBe(400);
    expect(e.outcome()).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'invalid',
          details: { coding: [{ system: ERROR_CODE_SYSTEM, code: 'CB_CAREPLAN_INVALID' }] },
          diagnostics: 'the care plan is not acceptable: subject is missing',
        },
      ],
    });
  });

  it('without a text, says the catalogue text', () => {
    expect(new CodedError('CB_SENDER_NOT_PARTNER').message).toBe(ERRORS.CB_SENDER_NOT_PARTNER.text);
  });

  it.each<[number, ErrorCode]>([
    [400, 'CB_REQUEST_INVALID'],
    [401, 'CB_UNAUTHENTICATED'],
    [413, 'CB_BODY_TOO_LARGE'],
    [429, 'CB_RATE_LIMITED'],
    [418, 'CB_REQUEST_REFUSED'],
    [502, 'CB_INTERNAL'],
  ])('status %i has code %s', (status, code) => {
    expect(codeForStatus(status)).toBe(code);
  });
});

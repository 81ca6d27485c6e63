import type { FastifyRequest } from 'fastify';
import type { MessageStore } from '../store/types.js';
import type { Principal } from './types.js';

export interface ApiAuditEvent {
  action: string;
  subjectType: string;
  subjectId: string;
  /** Ids and counts only: the audit table is not a PHI store. */
  detail?: Record<string, unknown>;
}

/**
 * Records a mutating API call after it succeeded, with the key id as actor. A failed audit write
 * is logged (ids only) but does not turn a done mutation into an error: the caller would retry
 * and replay twice.
 */
export async function auditApiCall(store: MessageStore, request: FastifyRequest, who: Principal, event: ApiAuditEvent): Promise<void> {
  try {
    await store.recordAudit({
      actor: who.keyId,
      action: event.action,
      subjectType: event.subjectType,
      subjectId: event.subjectId,
      detail: { requestId: request.id, ...event.detail },
    });
  } catch (err) {
    request.log.error({ action: event.action, subjectId: event.subjectId, errorName: (err as Error).name }, 'audit write failed');
  }
}

import type { AttemptReport } from '../delivery/queues.js';
import type { DeliveryJob } from '../delivery/types.js';
import type { ReceiveOutcome, ReceiveStep } from '../ingest/inbox.js';
import type { Logger } from './log.js';

// The steps of a message's life, one info line each (issue 13): received or rejected here,
// routed / not routed in the pipeline, then delivered, retrying or dead per destination. Only ids,
// codes and reasons go in: never names, MRNs, birth dates, addresses or payloads. One call per
// step with a small flat object keeps the hot path cheap.

/** `received` (accepted or duplicate) or `rejected`: source, sender, type^event, control id, ACK code. */
export function logReceiveStep(log: Logger, source: string, outcome: ReceiveOutcome, step: ReceiveStep): void {
  const fields = { messageId: step.messageId, controlId: step.controlId, source, sender: step.sender, type: step.type, ack: step.ack };
  if (outcome === 'rejected') log.info({ ...fields, reason: step.reason }, 'rejected');
  else log.info(outcome === 'duplicate' ? { ...fields, duplicate: true } : fields, 'received');
}

/** `delivered`, `retrying` or `dead`: destination, attempt, HTTP status (or MLLP ACK code). */
export function logDeliveryStep(log: Logger, job: DeliveryJob, report: AttemptReport): void {
  const { outcome } = report;
  const fields = {
    messageId: job.messageId,
    deliveryId: job.deliveryId,
    destination: job.destinationId,
    attempt: report.attempt,
    status: outcome.status,
  };
  if (report.next === 'done') log.info(fields, 'delivered');
  else if (report.next === 'dead') log.warn({ ...fields, reason: outcome.error }, 'dead');
  else log.info({ ...fields, reason: outcome.error }, 'retrying');
}

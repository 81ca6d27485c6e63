/**
 * The books the resilience tests balance: what the senders saw ACKed, what the store holds, and
 * what the idempotent webhook receiver accepted (per Idempotency-Key = delivery id).
 */
import type { MessageStore } from '../../../src/store/types.js';
import { TEST_ADMIN_KEY } from '../../helpers/gateway.js';
import type { WebhookStub } from '../../helpers/webhook-stub.js';

export interface Ledger {
  /** Distinct control ids the senders saw ACKed. */
  acked: number;
  /** ACKed but not in the store: an ACK for something unstored (must be empty). */
  ackedNotStored: string[];
  /** Stored but never ACKed: fine only while a sender still holds it (must be empty after stop()). */
  storedNotAcked: string[];
  /** Stored messages of this run not `processed`. */
  notProcessed: string[];
  /** Messages with other than exactly one delivery row. */
  notOneDelivery: string[];
  /** Deliveries not `delivered` in the store. */
  notDeliveredInStore: string[];
  /** ACKed control ids the receiver never accepted. */
  ackedNotReceived: string[];
  /** Control ids that reached the receiver under more than one Idempotency-Key (real duplicates). */
  underSeveralKeys: string[];
  /** Idempotency-Keys the receiver accepted for this run. */
  distinctKeys: number;
  /** Accepted requests beyond the first per key: at-least-once resends the receiver absorbed. */
  absorbedResends: number;
}

/** Polls the API: true once no message is `received` and no delivery is pending or retrying. */
export async function noUnfinishedWork(httpPort: number): Promise<boolean> {
  const base = `http://127.0.0.1:${httpPort}`;
  const headers = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
  for (const path of [
    '/api/messages?status=received&limit=1',
    '/api/deliveries?status=pending&limit=1',
    '/api/deliveries?status=failed-retrying&limit=1',
  ]) {
    const res = await fetch(base + path, { headers });
    if (!res.ok) return false;
    const page = (await res.json()) as { items: unknown[] };
    if (page.items.length > 0) return false;
  }
  return true;
}

/** Control id from a delivered Bundle: `identifier.value` is `<MSH-3^MSH-4>|<MSH-10>`. */
export function controlIdOfBundle(body: unknown): string | undefined {
  const value = (body as { identifier?: { value?: unknown } } | null)?.identifier?.value;
  if (typeof value !== 'string') return undefined;
  return value.slice(value.lastIndexOf('|') + 1);
}

export async function balanceLedger(store: MessageStore, ackedIds: readonly string[], hook: WebhookStub, tag: string): Promise<Ledger> {
  const acked = new Set(ackedIds);
  const ours = (controlId: string | null | undefined): controlId is string => typeof controlId === 'string' && controlId.startsWith(tag);

  const byMessageId = new Map<string, { controlId: string; status: string }>();
  const storedControlIds = new Set<string>();
  let cursor: string | null = null;
  do {
    const page = await store.searchMessages({ limit: 1000, cursor });
    for (const m of page.items) {
      if (!ours(m.controlId)) continue;
      byMessageId.set(m.id, { controlId: m.controlId, status: m.status });
      storedControlIds.add(m.controlId);
    }
    cursor = page.next;
  } while (cursor);

  const deliveriesPerMessage = new Map<string, number>();
  const notDeliveredInStore: string[] = [];
  cursor = null;
  do {
    const page = await store.listDeliveries({ limit: 1000, cursor });
    for (const d of page.items) {
      const m = byMessageId.get(d.messageId);
      if (!m) continue;
      deliveriesPerMessage.set(d.messageId, (deliveriesPerMessage.get(d.messageId) ?? 0) + 1);
      if (d.status !== 'delivered') notDeliveredInStore.push(`${m.controlId}:${d.status}`);
    }
    cursor = page.next;
  } while (cursor);

  const keysByControlId = new Map<string, Set<string>>();
  let accepted = 0;
  const keys = new Set<string>();
  for (const delivery of hook.accepted) {
    const controlId = controlIdOfBundle(delivery.body);
    if (!ours(controlId)) continue;
    accepted++;
    keys.add(delivery.idempotencyKey);
    let set = keysByControlId.get(controlId);
    if (!set) keysByControlId.set(controlId, (set = new Set()));
    set.add(delivery.idempotencyKey);
  }

  return {
    acked: acked.size,
    ackedNotStored: [...acked].filter((c) => !storedControlIds.has(c)),
    storedNotAcked: [...storedControlIds].filter((c) => !acked.has(c)),
    notProcessed: [...byMessageId.values()].filter((m) => m.status !== 'processed').map((m) => `${m.controlId}:${m.status}`),
    notOneDelivery: [...byMessageId.entries()]
      .filter(([id]) => deliveriesPerMessage.get(id) !== 1)
      .map(([id, m]) => `${m.controlId}:${deliveriesPerMessage.get(id) ?? 0}`),
    notDeliveredInStore,
    ackedNotReceived: [...acked].filter((c) => !keysByControlId.has(c)),
    underSeveralKeys: [...keysByControlId.entries()].filter(([, s]) => s.size > 1).map(([c]) => c),
    distinctKeys: keys.size,
    absorbedResends: accepted - keys.size,
  };
}

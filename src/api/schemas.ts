// JSON schemas for the API's requests and responses: Fastify validates requests and serializes
// responses with them, and @fastify/swagger publishes them in /openapi.json. Response schemas are
// also a whitelist: a field missing here never reaches the client.
import { ATTEMPT_OUTCOMES, DELIVERY_STATUSES, MESSAGE_STATUSES, SOURCE_KINDS } from '../store/types.js';
import { outcomeRef } from './operation-outcome.js';

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;
const int = { type: 'integer' } as const;

export const SECURITY: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKeyHeader: [] }];

export const securitySchemes = {
  bearerAuth: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

export const messageSummarySchema = {
  type: 'object',
  properties: {
    id: str,
    receivedAt: dateTime,
    sourceKind: { type: 'string', enum: [...SOURCE_KINDS] },
    sourceName: str,
    partnerId: nullableStr,
    sender: { ...nullableStr, description: 'MSH-3^MSH-4' },
    controlId: { ...nullableStr, description: 'MSH-10' },
    messageType: nullableStr,
    triggerEvent: nullableStr,
    version: nullableStr,
    contentHash: str,
    status: { type: 'string', enum: [...MESSAGE_STATUSES] },
    statusReason: nullableStr,
    duplicateCount: int,
    replayOf: nullableStr,
    updatedAt: dateTime,
  },
} as const;

const attemptSchema = {
  type: 'object',
  properties: {
    id: str,
    startedAt: dateTime,
    durationMs: { type: 'number' },
    outcome: { type: 'string', enum: [...ATTEMPT_OUTCOMES] },
    httpStatus: { type: ['integer', 'null'] },
    ackCode: nullableStr,
    error: nullableStr,
  },
} as const;

const deliveryProperties = {
  id: str,
  seq: int,
  messageId: str,
  destination: str,
  patientKey: nullableStr,
  status: { type: 'string', enum: [...DELIVERY_STATUSES] },
  attempts: int,
  nextAttemptAt: nullableDateTime,
  lastError: nullableStr,
  withheldReason: nullableStr,
  routeId: {
    ...nullableStr,
    description:
      'The route rule that decided this delivery (null: decided outside the route table, e.g. care plans, or recorded before routes were kept)',
  },
  partnerId: { ...nullableStr, description: 'The partner this delivery is for (attributed CP/ACO, or the destination owner)' },
  createdAt: dateTime,
  deliveredAt: nullableDateTime,
  updatedAt: dateTime,
} as const;

export const deliverySummarySchema = { type: 'object', properties: deliveryProperties } as const;

const deliveryDetailSchema = {
  type: 'object',
  properties: {
    ...deliveryProperties,
    payload: { ...nullableStr, description: 'What is (or was) sent, as stored' },
    attemptLog: { type: 'array', items: attemptSchema },
  },
} as const;

export const messageDetailSchema = {
  type: 'object',
  properties: {
    ...messageSummarySchema.properties,
    raw: { type: 'string', description: 'The bytes received: text when valid UTF-8, else base64 (see rawEncoding)' },
    rawEncoding: { type: 'string', enum: ['utf-8', 'base64'] },
    fhir: { type: ['object', 'null'], additionalProperties: true, description: 'The FHIR R4 Bundle produced' },
    identifiers: {
      type: 'array',
      items: { type: 'object', properties: { system: str, value: str } },
    },
    receipts: {
      type: 'array',
      description: 'The most recent receipts (duplicates included); duplicateCount has the full count',
      items: {
        type: 'object',
        properties: {
          id: str,
          receivedAt: dateTime,
          duplicate: { type: 'boolean' },
          sourceKind: { type: 'string', enum: [...SOURCE_KINDS] },
          sourceName: str,
        },
      },
    },
    deliveries: { type: 'array', items: deliveryDetailSchema },
    replays: { type: 'array', items: messageSummarySchema },
    routing: {
      type: ['object', 'null'],
      description: 'Why the message went where it did; null until routed (and for rejected or failed messages)',
      properties: {
        reason: {
          ...nullableStr,
          description:
            "In words: 'no route matched', 'member not on the roster (unmatched)', the routes and destinations taken, withheld from whom and why",
        },
        routes: { type: 'array', items: str, description: 'Ids of the route rules that produced a delivery' },
        partners: { type: 'array', items: str, description: 'Partners deliveries were decided for (sent or withheld)' },
        destinations: { type: 'array', items: str, description: 'Destinations it is sent to (not withheld)' },
        withheld: {
          type: 'array',
          items: { type: 'object', properties: { destination: str, routeId: nullableStr, partnerId: nullableStr, reason: nullableStr } },
        },
      },
    },
  },
} as const;

export function pageOf(items: object) {
  return {
    type: 'object',
    properties: {
      items: { type: 'array', items },
      next: { ...nullableStr, description: 'Pass as `cursor` for the next page; null on the last page' },
    },
  } as const;
}

const pageParams = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  cursor: { type: 'string', maxLength: 500 },
} as const;

export const messageQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    controlId: { ...str, description: 'MSH-10' },
    identifier: { ...str, description: 'Patient identifier: `system|value`, or `value` for any system' },
    sender: { ...str, description: 'MSH-3^MSH-4' },
    event: { ...str, description: 'Trigger event (A01) or type^event (ADT^A01)' },
    messageType: { ...str, description: 'MSH-9.1, e.g. ADT' },
    status: { type: 'string', enum: [...MESSAGE_STATUSES] },
    partner: str,
    from: { ...dateTime, description: 'received at or after' },
    to: { ...dateTime, description: 'received before' },
    ...pageParams,
  },
} as const;

export const deliveryQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    destination: str,
    status: { type: 'string', enum: [...DELIVERY_STATUSES] },
    messageId: str,
    ...pageParams,
  },
} as const;

export const replayResponseSchema = {
  type: 'object',
  properties: { id: { ...str, description: 'The new message' }, replayOf: str },
} as const;

export const requeueResponseSchema = {
  type: 'object',
  properties: {
    requeued: { type: 'array', items: str, description: 'Delivery ids moved from dead back to pending' },
  },
} as const;

/** Error responses every authenticated route may give. */
export const authErrors = { 400: outcomeRef, 401: outcomeRef, 429: outcomeRef, 500: outcomeRef } as const;

/** Public surface of the delivery layer (queues, deliverers, private Redis). */
export * from './types.js';
export {
  DeliveryQueues,
  UnknownDestinationError,
  jobIdFor,
  type AttemptNext,
  type AttemptReport,
  type DeadLetterReport,
  type DeliveryHooks,
  type DeliveryProcessor,
  type DeliveryQueuesOptions,
  type DestinationQueueOptions,
  type QueueDepth,
  type ResubmitResult,
} from './queues.js';
export { DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS, type BackoffPolicy } from './backoff.js';
export {
  RedisBinaryMissingError,
  RedisStartError,
  startPrivateRedis,
  type PrivateRedis,
  type PrivateRedisOptions,
} from './redis-server.js';
export { signWebhookBody, verifyWebhookSignature, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook-signature.js';
export * from './deliverers/index.js';

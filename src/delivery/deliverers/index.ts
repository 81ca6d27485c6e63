/** The destination types (registry.ts) and their deliverers. */
export {
  DESTINATION_MODULES,
  DESTINATION_TYPES,
  accepts,
  createDeliverer,
  destinationModule,
  renderFor,
  sendsRawOnly,
  typesAccepting,
  type DeliverAny,
  type DestinationType,
  type RuntimeDestination,
} from './registry.js';
export type { DestinationConnection, DestinationModule } from './module.js';
export { deliverWebhook } from './webhook.js';
export { deliverFhirTransaction, toConditionalTransaction } from './fhir.js';
export { deliverFhirMessage, davinciNotification } from './fhir-messaging.js';
export { createMllpDeliverer, type MllpSend } from './mllp.js';
export { deliverSftp, sftpFileFor, type FilePayload, type SftpFile } from './sftp.js';
export type { DelivererDependencies } from '../types.js';

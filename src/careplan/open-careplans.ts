// Care plans as the gateway runs them: the store on the message store's database, the service, the
// SFTP consumer for care-plan files, and the weekly timer. The gateway passes what it owns (message
// store, roster, the pipeline's FHIR path) and hooks `service.deliveriesFor` and
// `service.onDischarge` into the pipeline.
import type { GatewayConfig } from '../config/types.js';
import type { InboundWriterPort } from '../ingest/inbound.js';
import type { Logger } from '../observability/log.js';
import type { RosterLookup } from '../roster/types.js';
import type { SftpFileConsumer } from '../sources/sftp/types.js';
import type { MessageStore } from '../store/types.js';
import { carePlanFileConsumer } from './file-import.js';
import { CarePlanService, type Dispatch, type MemberDirectory } from './service.js';
import { resolveCarePlanSettings } from './settings.js';
import { openCarePlanStore } from './store/careplan-store.js';
import type { CarePlanStore } from './store/types.js';

export interface CarePlansOptions {
  config: GatewayConfig;
  messages: MessageStore;
  /** The inbox's writer, which stores the outbound care-plan messages. */
  inbound: InboundWriterPort;
  /** The pipeline's FHIR path (processFhir), which asks service.deliveriesFor for the deliveries. */
  dispatch: Dispatch;
  roster?: RosterLookup;
  members?: MemberDirectory;
  log: Logger;
  now?: () => Date;
}

export interface CarePlans {
  service: CarePlanService;
  store: CarePlanStore;
  /** For SFTP sources with format careplan-csv. */
  fileConsumer: SftpFileConsumer;
  /** Stops the weekly timer and closes the store. */
  close(): Promise<void>;
}

export async function openCarePlans(o: CarePlansOptions): Promise<CarePlans> {
  const store = await openCarePlanStore(o.config.store.url);
  try {
    const settings = resolveCarePlanSettings(o.config.careplans, o.config.partners);
    const service = new CarePlanService({
      store,
      messages: o.messages,
      inbound: o.inbound,
      dispatch: o.dispatch,
      roster: o.roster,
      members: o.members,
      partners: o.config.partners,
      destinationTypes: new Map(o.config.destinations.map((d) => [d.id, d.type])),
      settings,
      log: o.log,
      now: o.now,
    });
    const fileConsumer = carePlanFileConsumer({
      service,
      store,
      settings,
      partnerName: (id) => o.config.partners[id]?.name,
      log: o.log,
    });
    return {
      service,
      store,
      fileConsumer,
      async close() {
        service.stop();
        await store.close();
      },
    };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

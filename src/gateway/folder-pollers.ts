import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../observability/log.js';
import type { CarebridgeMetrics } from '../observability/metrics.js';
import type { RosterStore } from '../roster/store-types.js';
import { createSftpPoller } from '../sources/sftp/index.js';
import type { SftpPoller } from '../sources/sftp/poller.js';
import type { SftpFileConsumer } from '../sources/sftp/types.js';

/** Imports looked at per partner for a source's last file (newest first; a partner has few sources). */
const IMPORTS_SCANNED = 100;

/**
 * The last file each folder source with an expected daily file delivered, from the roster's
 * imports: without it a restart after a missed deadline would not report the missing file.
 */
export async function lastFileArrivals(config: GatewayConfig, roster: Pick<RosterStore, 'listImports'>): Promise<Map<string, Date>> {
  const arrivals = new Map<string, Date>();
  for (const source of config.sources) {
    if ((source.type !== 'sftp' && source.type !== 'directory') || !source.expectedDaily) continue;
    const page = await roster.listImports({ partner: source.partner, limit: IMPORTS_SCANNED });
    const last = page.items.find((i) => i.sourceId === source.id);
    if (last) arrivals.set(source.id, last.receivedAt);
  }
  return arrivals;
}

/** One poller per SFTP and drop-folder source, feeding files to `onFile`; not started yet. */
export function createFolderPollers(
  config: GatewayConfig,
  onFile: SftpFileConsumer,
  log: Logger,
  metrics: CarebridgeMetrics,
  lastFileAt: ReadonlyMap<string, Date> = new Map(),
): SftpPoller[] {
  const pollers: SftpPoller[] = [];
  for (const source of config.sources) {
    if (source.type !== 'sftp' && source.type !== 'directory') continue;
    pollers.push(
      createSftpPoller({
        source,
        dataDir: config.dataDir,
        onFile,
        log,
        lastFileAt: lastFileAt.get(source.id) ?? null,
        hooks: {
          onFileResult: (e) => metrics.sftpFiles.inc({ source: e.sourceId, partner: e.partner, result: e.result }),
          onPollFailure: (e) => metrics.sftpPollFailures.inc({ source: e.sourceId, partner: e.partner }),
          onMissingDaily: (st) => {
            metrics.sftpMissingDaily.inc({ source: st.sourceId, partner: st.partner });
            log.warn(
              { source: st.sourceId, partner: st.partner, expectedBy: st.expectedBy, missingSince: st.missingSince },
              'expected daily file has not arrived',
            );
          },
        },
      }),
    );
  }
  return pollers;
}

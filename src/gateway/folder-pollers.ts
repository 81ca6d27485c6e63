import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../observability/log.js';
import type { CarebridgeMetrics } from '../observability/metrics.js';
import { createSftpPoller } from '../sources/sftp/index.js';
import type { SftpPoller } from '../sources/sftp/poller.js';
import type { SftpFileConsumer } from '../sources/sftp/types.js';

/** One poller per SFTP and drop-folder source, feeding files to `onFile`; not started yet. */
export function createFolderPollers(
  config: GatewayConfig,
  onFile: SftpFileConsumer,
  log: Logger,
  metrics: CarebridgeMetrics,
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

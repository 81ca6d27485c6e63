import type { GatewayConfig } from '../config/types.js';
import type { Inbox } from '../ingest/inbox.js';
import type { MllpServer } from '../mllp/server.js';
import type { Logger } from '../observability/log.js';
import type { CarebridgeMetrics } from '../observability/metrics.js';
import { createMllpSource } from '../sources/mllp-source.js';

/** A listen that fails names the config key and the port instead of Node's bare `listen EADDRINUSE`. */
export async function explainListenError<T>(key: string, host: string, port: number, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    const why =
      code === 'EADDRINUSE'
        ? 'is already in use'
        : code === 'EACCES'
          ? 'may not be opened by this user'
          : code === 'EADDRNOTAVAIL'
            ? 'is not an address of this machine'
            : undefined;
    if (!why) throw e;
    throw Object.assign(new Error(`${key}: port ${port} on ${host} ${why}`), { code });
  }
}

export interface MllpListeners {
  /** Source id → bound port. */
  readonly ports: Record<string, number>;
  /** Stops every listener at once; each drains its in-flight ACKs first. */
  close(): Promise<void>;
}

/** Every MLLP source of the config, listening; on a failure the ones already listening are closed. */
export async function startMllpListeners(
  config: GatewayConfig,
  inbox: Inbox,
  log: Logger,
  metrics: CarebridgeMetrics,
): Promise<MllpListeners> {
  const servers: MllpServer[] = [];
  const ports: Record<string, number> = {};
  const close = async () => {
    await Promise.all(servers.map((s) => s.close({ drainTimeoutMs: config.server.shutdownTimeoutMs }).catch(() => {})));
  };
  try {
    for (const [index, source] of config.sources.entries()) {
      if (source.type !== 'mllp') continue;
      const server = createMllpSource(source, inbox, log, (s) => metrics.ackLatency.observe({ source: source.id }, s), metrics);
      const bound = await explainListenError(`sources[${index}].port (${source.id})`, source.host, source.port, () => server.listen());
      servers.push(server);
      ports[source.id] = bound.port;
      log.info({ source: source.id, host: bound.host, port: bound.port }, 'MLLP listener ready');
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { ports, close };
}

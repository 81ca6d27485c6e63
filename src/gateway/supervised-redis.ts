import { join } from 'node:path';
import { startPrivateRedis, type PrivateRedis } from '../delivery/redis-server.js';
import type { Logger } from '../observability/log.js';

export interface SupervisedRedis {
  readonly url: string;
  /** The redis-server running now (a new one after a restart). */
  current(): PrivateRedis;
  stop(): Promise<void>;
}

/**
 * The gateway's own redis-server (no redis.url configured), restarted on the same port and data
 * (AOF) whenever it dies, so queued work survives and the queue connections reconnect by themselves.
 */
export async function startSupervisedRedis(dataDir: string, log: Logger): Promise<SupervisedRedis> {
  const redisDir = join(dataDir, 'redis');
  let redis = await startPrivateRedis({ dataDir: redisDir });
  let stopping = false;
  log.info({ port: redis.port }, 'private redis-server started');

  const supervise = (r: PrivateRedis): void => {
    void r.exited.then(async (exit) => {
      if (stopping) return;
      log.warn({ code: exit.code, signal: exit.signal }, 'private redis-server exited; restarting it');
      for (let attempt = 1; !stopping; attempt++) {
        try {
          redis = await startPrivateRedis({ dataDir: redisDir, port: r.port });
          log.info({ port: redis.port }, 'private redis-server restarted');
          supervise(redis);
          return;
        } catch (e) {
          log.error({ err: (e as Error).message, attempt }, 'private redis-server restart failed');
          await new Promise((res) => setTimeout(res, Math.min(1000 * attempt, 10_000)));
        }
      }
    });
  };
  supervise(redis);

  return {
    url: redis.url,
    current: () => redis,
    async stop() {
      stopping = true;
      await redis.stop();
    },
  };
}

/**
 * A private redis-server per test file (real Debian binary, temp dataDir, free loopback port),
 * built on the gateway's own startPrivateRedis so tests exercise the production start path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrivateRedis, type ExitInfo, type PrivateRedis } from '../../src/delivery/redis-server.js';

export interface TestRedis {
  /** The current server (replaced by restart()). */
  readonly server: PrivateRedis;
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Simulates a crash of Redis alone. */
  crash(): Promise<ExitInfo>;
  /** Starts a new redis-server on the same port and dataDir (AOF is replayed). */
  restart(): Promise<void>;
  /** Stops the server and removes the temp dir. */
  cleanup(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carebridge-redis-'));
  let server = await startPrivateRedis({ dataDir });
  const port = server.port;
  return {
    get server() {
      return server;
    },
    url: server.url,
    port,
    dataDir,
    crash: () => server.kill('SIGKILL'),
    async restart() {
      await server.stop();
      server = await startPrivateRedis({ dataDir, port });
    },
    async cleanup() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { PIDFILE_NAME, RedisBinaryMissingError, startPrivateRedis, type PrivateRedis } from '../../../src/delivery/redis-server.js';
import { Redis } from 'ioredis';

const dirs: string[] = [];
const servers: PrivateRedis[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'carebridge-redis-test-'));
  dirs.push(dir);
  return dir;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

async function waitUntilDead(pid: number): Promise<void> {
  while (isAlive(pid)) await sleep(20);
}

/**
 * The parent must be a separate Node process running the real module; there is no TS loader for
 * child processes here, so transpile the two source files into a temp dir.
 */
function buildParentScript(dir: string): string {
  const srcDir = join(import.meta.dirname, '../../../src/delivery');
  for (const name of ['redis-server', 'free-port']) {
    const source = readFileSync(join(srcDir, `${name}.ts`), 'utf8');
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(dir, `${name}.mjs`), out.outputText.replaceAll("'./free-port.js'", "'./free-port.mjs'"));
  }
  const script = join(dir, 'parent.mjs');
  writeFileSync(
    script,
    `import { startPrivateRedis } from './redis-server.mjs';
const redis = await startPrivateRedis({ dataDir: process.argv[2] });
process.stdout.write(JSON.stringify({ pid: redis.pid }) + '\\n');
setInterval(() => {}, 1000);
`,
  );
  return script;
}

describe('startPrivateRedis', () => {
  it('starts on loopback with AOF on, answers commands, and stops cleanly', async () => {
    const dataDir = tempDir();
    const redis = await startPrivateRedis({ dataDir });
    servers.push(redis);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(existsSync(join(dataDir, PIDFILE_NAME))).toBe(true);

    const client = new Redis(redis.url, { lazyConnect: true });
    await client.connect();
    await client.set('k', 'v');
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
    client.disconnect();

    await redis.stop();
    expect(isAlive(redis.pid)).toBe(false);
    expect(existsSync(join(dataDir, PIDFILE_NAME))).toBe(false);
  });

  it('keeps acknowledged writes across SIGKILL and a restart on the same port and dataDir', async () => {
    const dataDir = tempDir();
    const first = await startPrivateRedis({ dataDir });
    const client = new Redis(first.url, { lazyConnect: true });
    await client.connect();
    await client.set('survivor', 'yes');
    client.disconnect();
    const exit = await first.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');

    const second = await startPrivateRedis({ dataDir, port: first.port });
    servers.push(second);
    const again = new Redis(second.url, { lazyConnect: true });
    await again.connect();
    expect(await again.get('survivor')).toBe('yes');
    again.disconnect();
  });

  it('names the install command when the binary is missing', async () => {
    const err = await startPrivateRedis({ dataDir: tempDir(), binary: '/nonexistent/redis-server' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisBinaryMissingError);
    expect((err as Error).message).toContain('apt-get install redis-server');
    expect((err as Error).message).toContain('redis.url');
  });

  it('stops a stale server left by an earlier run on the same dataDir', async () => {
    const dataDir = tempDir();
    const stale = await startPrivateRedis({ dataDir });
    // Simulate "our process vanished and the watchdog too": forget the handle but keep the pidfile.
    const pidfile = readFileSync(join(dataDir, PIDFILE_NAME), 'utf8');
    const fresh = await startPrivateRedis({ dataDir });
    servers.push(fresh);
    await waitUntilDead(stale.pid);
    expect(isAlive(stale.pid)).toBe(false);
    expect(JSON.parse(readFileSync(join(dataDir, PIDFILE_NAME), 'utf8')).pid).toBe(fresh.pid);
    expect(JSON.parse(pidfile).pid).toBe(stale.pid);
  });

  it('ignores a pidfile whose pid is not a redis-server in this dataDir', async () => {
    const dataDir = tempDir();
    // Our own pid is alive but is not redis-server: it must not be signalled.
    writeFileSync(join(dataDir, PIDFILE_NAME), JSON.stringify({ pid: process.pid, port: 1 }));
    const redis = await startPrivateRedis({ dataDir });
    servers.push(redis);
    expect(redis.pid).not.toBe(process.pid);
  });

  it('does not outlive a parent killed with SIGKILL', async () => {
    const dataDir = tempDir();
    const script = buildParentScript(tempDir());
    const parent = spawn(process.execPath, [script, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      parent.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      parent.once('exit', (code) => reject(new Error(`parent exited early (${code})`)));
    });
    const redisPid = Number(JSON.parse(line).pid);
    expect(isAlive(redisPid)).toBe(true);
    parent.kill('SIGKILL');
    await waitUntilDead(redisPid);
    expect(isAlive(redisPid)).toBe(false);
  });
});

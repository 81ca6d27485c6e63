import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/delivery/free-port.js';
import { DEMO_MEMBERS, DEMO_NON_MEMBERS } from '../../src/demo/hospital-feed.js';
import { eventually, TEST_ADMIN_KEY } from '../helpers/gateway.js';
import { stopLeftoverRedis } from '../helpers/gateway-process.js';
import { waitForExit } from '../helpers/child-process.js';

// `carebridge start` with no config: the demo, as a user runs it (the built binary, its own
// process), on free ports and a temporary data directory.
const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');

interface Demo {
  child: ChildProcess;
  base: string;
  dataDir: string;
  stdout: () => string;
  stop(): Promise<void>;
}

async function startDemo(args: string[] = []): Promise<Demo> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cb-demo-'));
  const [http, mllp] = [await findFreePort(), await findFreePort()];
  const child = spawn(process.execPath, [CLI, 'start', ...args], {
    cwd: dataDir,
    env: {
      ...process.env,
      CAREBRIDGE_HTTP_PORT: String(http),
      CAREBRIDGE_MLLP_PORT: String(mllp),
      CAREBRIDGE_DATA_DIR: dataDir,
      CAREBRIDGE_DEMO_FEED_MS: '250',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  await eventually(() => /gateway running/.test(err) || child.exitCode !== null, 120_000);
  if (child.exitCode !== null) throw new Error(`demo did not start: ${err}`);
  return {
    child,
    base: `http://127.0.0.1:${http}`,
    dataDir,
    stdout: () => out,
    async stop() {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 30_000))) child.kill('SIGKILL');
      await stopLeftoverRedis(join(dataDir, 'redis'));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const api = async <T>(base: string, path: string): Promise<T> =>
  (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } })).json() as Promise<T>;

interface Received {
  received: number;
  latest: Array<{
    event: string;
    resources: string[];
    bundle: { entry: Array<{ resource: { resourceType: string; identifier?: Array<{ system?: string; value?: string }> } }> };
  }>;
}

/** Which CP each demo member is attributed to (the demo roster alternates them). */
const cpOf = (memberId: string) => (Number(memberId.slice(-2)) % 2 === 1 ? 'example-cp' : 'riverside-cp');
const memberIdIn = (bundle: Received['latest'][number]['bundle']) =>
  bundle.entry
    .find((e) => e.resource.resourceType === 'Patient')
    ?.resource.identifier?.find((i) => i.system === 'https://www.mass.gov/masshealth/member-id')?.value;

let demo: Demo | undefined;
afterAll(() => demo?.stop());

describe('the demo (`carebridge start` with no config)', () => {
  it(
    "loads the roster from its drop folder and routes the simulated feed to each member's CP only, with follow-ups, withheld and unmatched events",
    { timeout: 240_000 },
    async () => {
      demo = await startDemo();
      const { base } = demo;
      // Roster: the ACO's member file, read from the local folder source.
      await eventually(
        async () =>
          (await api<{ items: Array<{ status: string }> }>(base, '/api/roster/imports')).items.some((i) => i.status === 'applied'),
        120_000,
      );
      // Both CPs get events, each only its own members'; a discharge carries the transition-of-care CarePlan.
      await eventually(async () => {
        const [a, b] = await Promise.all([
          api<Received>(base, '/demo/receivers/example-cp'),
          api<Received>(base, '/demo/receivers/riverside-cp'),
        ]);
        return a.received > 0 && b.received > 0 && [...a.latest, ...b.latest].some((r) => r.resources.includes('CarePlan'));
      }, 120_000);
      for (const cp of ['example-cp', 'riverside-cp']) {
        const got = await api<Received>(base, `/demo/receivers/${cp}`);
        for (const item of got.latest) expect({ cp, member: cpOf(memberIdIn(item.bundle) ?? '') }).toEqual({ cp, member: cp });
      }
      // The behavioral-health discharge without consent is withheld; walk-ins are unmatched.
      await eventually(async () => (await api<{ items: unknown[] }>(base, '/api/deliveries?status=withheld')).items.length > 0, 120_000);
      await eventually(async () => (await api<{ items: unknown[] }>(base, '/api/roster/unmatched')).items.length > 0, 120_000);
      // The log names each message by control id, never the synthetic patients.
      const log = demo.stdout();
      expect(log).toMatch(/"controlId":"DEMO[0-9A-Z]+-0001"/);
      for (const p of [...DEMO_MEMBERS, ...DEMO_NON_MEMBERS]) {
        for (const phi of [p.family, p.mrn, p.birthDate, ...(p.memberId ? [p.memberId] : [])])
          expect({ phi, inLog: log.includes(phi) }).toEqual({ phi, inLog: false });
      }
      expect(log).not.toMatch(/LANTERN WAY|1 DEMO WAY/);
      await demo.stop();
      demo = undefined;
    },
  );

  it('--no-demo-feed runs the same demo without the simulated hospital', { timeout: 240_000 }, async () => {
    demo = await startDemo(['--no-demo-feed']);
    const { base } = demo;
    await eventually(
      async () => (await api<{ items: Array<{ status: string }> }>(base, '/api/roster/imports')).items.some((i) => i.status === 'applied'),
      120_000,
    );
    // The feed would have sent a message every 250 ms by now.
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await api<{ items: unknown[] }>(base, '/api/messages')).items).toEqual([]);
    expect(demo.stdout()).not.toMatch(/demo feed/);
  });
});

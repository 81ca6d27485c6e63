import { RedisBinaryMissingError } from '../delivery/redis-server.js';
import { dropDemoMemberFile, prepareDemoFolders } from '../demo/prepare.js';
import { startDemoFeed } from '../demo/hospital-feed.js';
import { startGateway } from '../gateway/gateway.js';
import { ProfileError } from '../mapping/profile-loader.js';
import { createLogger } from '../observability/log.js';
import { parseArgs, UsageError } from './args.js';
import { checkConfig } from './check.js';
import type { CliIo } from './convert.js';

/** `carebridge start`: runs until SIGINT/SIGTERM, then shuts down gracefully. */
export async function startCommand(argv: string[], io: CliIo): Promise<number> {
  const { positional, options } = parseArgs(argv, { config: 'value', 'no-demo-feed': 'flag' });
  if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}'`);
  // The same check as `carebridge check`: a missing layout fails here, not at the first file.
  const checked = checkConfig(typeof options.config === 'string' ? options.config : undefined);
  if (!checked.ok) {
    io.stderr.write(`carebridge: invalid configuration\n${checked.problems.join('\n')}\n`);
    return 2;
  }
  const config = checked.config;
  const demo = options.config === undefined;
  const log = createLogger({ level: config.server.logLevel });
  let gateway;
  try {
    gateway = await startGateway(config, log);
  } catch (e) {
    // Known start-up problems get one clear line; anything else is reported without a stack.
    if (e instanceof ProfileError) io.stderr.write(`carebridge: mapping profile: ${e.message}\n`);
    else if (e instanceof RedisBinaryMissingError) io.stderr.write(`carebridge: ${e.message}\n`);
    else if ((e as NodeJS.ErrnoException)?.code === 'EADDRINUSE') io.stderr.write(`carebridge: cannot listen: ${(e as Error).message}\n`);
    else io.stderr.write(`carebridge: cannot start: ${(e as Error)?.message ?? String(e)}\n`);
    return 1;
  }
  let feed: { stop(): Promise<void> } | undefined;
  if (demo) {
    dropDemoMemberFile(prepareDemoFolders());
    if (!options['no-demo-feed']) {
      const mllp = config.sources.find((s) => s.type === 'mllp');
      const intervalMs = Number(process.env.CAREBRIDGE_DEMO_FEED_MS) || 3000;
      if (mllp && mllp.type === 'mllp') feed = startDemoFeed({ host: mllp.host, port: gateway.ports[mllp.id], intervalMs, log });
    }
  }
  io.stderr.write(
    `carebridge: gateway running (${Object.entries(gateway.ports)
      .map(([k, v]) => `${k}:${v}`)
      .join(', ')}); Ctrl-C to stop\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await feed?.stop();
  await gateway.close();
  return 0;
}

import { ConfigError, loadConfig } from '../config/index.js';
import { RedisBinaryMissingError } from '../delivery/redis-server.js';
import { startGateway } from '../gateway/gateway.js';
import { ProfileError } from '../mapping/profile-loader.js';
import { createLogger } from '../observability/log.js';
import { parseArgs, UsageError } from './args.js';
import type { CliIo } from './convert.js';

export const START_USAGE = `usage: carebridge start [--config FILE]
  Runs the gateway. Without --config it uses config/demo.yaml: SQLite under ./data, a private
  redis-server, an MLLP listener on 127.0.0.1:2575 and the HTTP API on 127.0.0.1:8080.`;

/** `carebridge start`: runs until SIGINT/SIGTERM, then shuts down gracefully. */
export async function startCommand(argv: string[], io: CliIo): Promise<number> {
  const { positional, options } = parseArgs(argv, { config: 'value', help: 'flag' });
  if (options.help) {
    io.stdout.write(START_USAGE + '\n');
    return 0;
  }
  if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}'`);
  let config;
  try {
    config = loadConfig(typeof options.config === 'string' ? options.config : undefined);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr.write(`carebridge: invalid configuration\n${e.message}\n`);
      return 2;
    }
    throw e;
  }
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
  io.stderr.write(`carebridge: gateway running (${Object.entries(gateway.ports).map(([k, v]) => `${k}:${v}`).join(', ')}); Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await gateway.close();
  return 0;
}

// The gateway as a separate process, for tests that must kill -9 it (tests/helpers/gateway-process.ts).
// Loads the config file given as argv[2], starts the gateway, then prints ONE JSON line on stdout
// with the bound ports; logs go to stderr so stdout stays machine-readable. SIGTERM/SIGINT close
// the gateway gracefully (what `carebridge start` does), a SIGKILL is the crash under test.
import pino from 'pino';
import { loadConfig } from '../../../../src/config/index.js';
import { startGateway } from '../../../../src/gateway/gateway.js';
import { PHI_PATHS } from '../../../../src/observability/log.js';

const configFile = process.argv[2];
if (!configFile) {
  process.stderr.write('usage: gateway-child.ts CONFIG_FILE\n');
  process.exit(2);
}

const config = loadConfig(configFile);
const log = pino(
  {
    level: process.env.CAREBRIDGE_LOG_LEVEL ?? config.server.logLevel,
    base: { service: 'carebridge-test-child' },
    redact: { paths: PHI_PATHS, censor: '[redacted]' },
  },
  pino.destination(2),
);
const gateway = await startGateway(config, log);
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, ports: gateway.ports, redisUrl: gateway.redisUrl })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  gateway.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

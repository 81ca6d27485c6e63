#!/usr/bin/env node
import { UsageError } from './args.js';
import { CONVERT_USAGE, convertCommand } from './convert.js';

const USAGE = `usage: carebridge <command> [options]
commands:
  convert FILE... [--partner ID] [--config FILE]   HL7 v2 → FHIR R4 NDJSON on stdout
  start [--config FILE]                            run the gateway
  help                                             this text`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = { stdout: process.stdout, stderr: process.stderr };
  try {
    switch (command) {
      case 'convert':
        return await convertCommand(rest, io);
      case 'start': {
        const { startCommand } = await import('./start.js');
        return await startCommand(rest, io);
      }
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return 0;
      case undefined:
        throw new UsageError('no command given');
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`carebridge: ${e.message}\n${command === 'convert' ? CONVERT_USAGE : USAGE}\n`);
      return 2;
    }
    // Anything else is a bug: one line, no stack trace (set CAREBRIDGE_DEBUG=1 for it).
    process.stderr.write(`carebridge: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    if (process.env.CAREBRIDGE_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

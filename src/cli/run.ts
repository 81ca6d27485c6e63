import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { UsageError } from './args.js';
import { COMMANDS, usageLine, type CliCommand } from './commands.js';
import type { CliIo } from './convert.js';

const USAGE = `usage: carebridge <command> [options]   (carebridge help COMMAND for more)
commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(16)}${c.summary}`).join('\n')}
  help [COMMAND]  this text, or a command's help
  --version       the carebridge version`;

function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

const find = (name: string | undefined): CliCommand | undefined => COMMANDS.find((c) => c.name === name);

/** The whole CLI behind `carebridge`: output goes to `io`, the exit code is returned (tests run it in-process). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  const command = find(name);
  try {
    if (command) {
      if (rest.includes('--help') || rest.includes('-h')) {
        io.stdout.write(command.help + '\n');
        return 0;
      }
      return await command.run(rest, io);
    }
    switch (name) {
      case '--version':
      case '-v':
      case 'version':
        io.stdout.write(`${version()}\n`);
        return 0;
      case 'help':
      case '--help':
      case '-h': {
        if (rest.length === 0) {
          io.stdout.write(USAGE + '\n');
          return 0;
        }
        const about = find(rest[0]);
        if (!about) throw new UsageError(`unknown command '${rest[0]}'`);
        io.stdout.write(about.help + '\n');
        return 0;
      }
      case undefined:
        throw new UsageError('no command given');
      default:
        throw new UsageError(`unknown command '${name}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      // The one relevant usage line; `carebridge help CMD` has the rest.
      io.stderr.write(`carebridge: ${e.message}\n${command ? usageLine(command) : USAGE.split('\n')[0]}\n`);
      return 2;
    }
    // Anything else is a bug: one line, no stack trace (set CAREBRIDGE_DEBUG=1 for it).
    io.stderr.write(`carebridge: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    if (process.env.CAREBRIDGE_DEBUG) io.stderr.write(`${(e as Error)?.stack}\n`);
    return 1;
  }
}

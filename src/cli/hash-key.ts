import { hashApiKey } from '../config/api-keys.js';
import { parseArgs, UsageError } from './args.js';
import type { CliIo } from './convert.js';

/** `carebridge hash-key`: the key comes on stdin so it stays out of shell history and `ps`. */
export async function hashKeyCommand(argv: string[], io: CliIo): Promise<number> {
  const stdin = io.stdin ?? process.stdin;
  const { positional } = parseArgs(argv, {});
  if (positional.length) throw new UsageError('the key is read from stdin, not from the command line');
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  // One trailing newline is what `echo` adds, not part of the key.
  const key = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  try {
    io.stdout.write(`${hashApiKey(key)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof RangeError) {
      io.stderr.write(`carebridge hash-key: ${e.message} (read from stdin)\n`);
      return 2;
    }
    throw e;
  }
}

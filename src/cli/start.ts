import type { CliIo } from './convert.js';
import { UsageError } from './args.js';

/** Placeholder until the gateway service lands (issue 3). */
export async function startCommand(_argv: string[], _io: CliIo): Promise<number> {
  throw new UsageError('start: the gateway service is not built yet');
}

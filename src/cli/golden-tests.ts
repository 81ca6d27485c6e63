import type { CliIo } from './convert.js';
export async function testCommand(_argv: string[], _io: CliIo): Promise<number> {
  return 0;
}

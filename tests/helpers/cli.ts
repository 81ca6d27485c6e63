import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/run.js';

/**
 * Runs the carebridge CLI in this process: the same code as the `carebridge` binary (main.ts only
 * sets process.exitCode from it), without paying a Node start per command on a busy machine.
 */
export async function cli(args: string[], options: { input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        append(String(chunk));
        done();
      },
    });
  const stdin = (async function* () {
    if (options.input !== undefined) yield Buffer.from(options.input);
  })();
  const code = await runCli(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), stdin });
  return { code, stdout, stderr };
}

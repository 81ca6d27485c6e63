import { ConfigError, loadConfig } from '../config/index.js';
import { referenceProblems } from '../config/reference-checks.js';
import type { GatewayConfig } from '../config/types.js';
import { prepareDemoFolders } from '../demo/prepare.js';
import { parseArgs, UsageError } from './args.js';
import type { CliIo } from './convert.js';

export type CheckedConfig = { ok: true; config: GatewayConfig } | { ok: false; problems: string[] };

/** Loads the config and everything it references; what `check` prints and `start` refuses to run with. */
export function checkConfig(file: string | undefined): CheckedConfig {
  // No config: the demo, whose drop folder lives under the data directory.
  if (file === undefined) prepareDemoFolders();
  let config: GatewayConfig;
  try {
    config = loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, problems: e.message.split('\n') };
    throw e;
  }
  const problems = referenceProblems(config);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

/** `carebridge check`: exit 0 when everything loads, 2 with one line per problem. */
export async function checkCommand(argv: string[], io: CliIo): Promise<number> {
  const { positional, options } = parseArgs(argv, { config: 'value' });
  if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const checked = checkConfig(typeof options.config === 'string' ? options.config : undefined);
  if (!checked.ok) {
    for (const p of checked.problems) io.stderr.write(`${p}\n`);
    io.stderr.write(`${checked.problems.length} problem${checked.problems.length === 1 ? '' : 's'}\n`);
    return 2;
  }
  const c = checked.config;
  io.stdout.write(
    `${c.configFile}: OK (${Object.keys(c.partners).length} partners, ${c.sources.length} sources, ${c.destinations.length} destinations, ${c.routes.length} routes; mappings ${c.mappings.dir})\n`,
  );
  return 0;
}

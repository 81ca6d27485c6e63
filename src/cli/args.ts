import { parseArgs as nodeParseArgs } from 'node:util';

/** A usage mistake: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ParsedArgs {
  positional: string[];
  options: Record<string, string | true>;
}

/** What node's parser says, reworded as one short line (its own messages suggest `--` tricks). */
function usageMessage(err: NodeJS.ErrnoException, spec: Record<string, 'value' | 'flag'>): string {
  const name = /'(-[^' ]+)/.exec(err.message)?.[1] ?? '';
  const bare = name.replace(/^-+/, '');
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${name || err.message}`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return spec[bare] === 'flag' ? `--${bare} takes no value` : `--${bare} needs a value`;
  }
  return err.message.split('\n')[0];
}

/**
 * GNU-style options through node's util.parseArgs: `--name value`, `--name=value`, `--flag`, `--`
 * ends options. Only options listed in `spec` are accepted, so typos fail loudly.
 */
export function parseArgs(argv: string[], spec: Record<string, 'value' | 'flag'>): ParsedArgs {
  const options = Object.fromEntries(
    Object.entries(spec).map(([name, kind]) => [name, { type: kind === 'value' ? 'string' : 'boolean' } as const]),
  );
  let parsed;
  try {
    parsed = nodeParseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(usageMessage(e as NodeJS.ErrnoException, spec));
  }
  const out: Record<string, string | true> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === undefined || value === false) continue;
    if (value === '') throw new UsageError(`--${name} needs a value`);
    out[name] = value as string | true;
  }
  return { positional: parsed.positionals, options: out };
}

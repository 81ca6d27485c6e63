import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from './args.js';

/** The parts of a gateway config the offline `convert` command uses. */
export interface CliConfig {
  mappingsDir?: string;
}

export function loadConfigForCli(file: string): CliConfig {
  if (!existsSync(file)) throw new UsageError(`cannot read config ${file}: no such file`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch {
    throw new UsageError(`${file}: not valid YAML`);
  }
  const mappings = (doc as { mappings?: { dir?: unknown } } | null)?.mappings;
  if (mappings?.dir !== undefined && typeof mappings.dir !== 'string') throw new UsageError(`${file}: mappings.dir: must be a path`);
  return { mappingsDir: typeof mappings?.dir === 'string' ? resolve(dirname(file), mappings.dir) : undefined };
}

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { packageRoot } from '../util/package-root.js';
import { crossCheck } from './cross-checks.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { fileChecks } from './file-checks.js';
import { interpolateEnv, type Env } from './interpolate.js';
import { applyEnvOverrides } from './overrides.js';
import { resolvePaths } from './resolve-paths.js';
import { gatewayConfigSchema } from './schema/gateway.js';
import type { GatewayConfig } from './types.js';
import { configErrorMap, toConfigIssues } from './zod-issues.js';

/** The config used when none is given: `config/demo.yaml` of the package. */
export function defaultConfigFile(): string {
  return join(packageRoot(), 'config', 'demo.yaml');
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return `line ${line}, column ${offset - (before.lastIndexOf('\n') + 1) + 1}`;
}

function readYaml(file: string, shownAs: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw ConfigError.single(shownAs, '', code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? 'error'})`);
  }
  try {
    return parseYaml(text, { merge: true, prettyErrors: false });
  } catch (err) {
    if (!(err instanceof YAMLParseError)) throw err;
    // The parser's message can quote the offending line, which may hold a secret: keep only the
    // general description before " at line".
    const what = err.message.split(/ at line |\n|:\s*$/)[0].slice(0, 120);
    const where = lineAndColumn(text, err.pos[0]);
    throw ConfigError.single(shownAs, where, `not valid YAML: ${what}`);
  }
}

/** Marks issues whose key was set by a CAREBRIDGE_* variable, so nobody hunts for it in the file. */
function annotateOverrides(issues: ConfigIssue[], overridden: ReadonlyMap<string, string>): ConfigIssue[] {
  return issues.map((issue) => {
    const variable = overridden.get(issue.key);
    return variable ? { ...issue, key: `${issue.key} (from ${variable})` } : issue;
  });
}

/**
 * Reads, interpolates, validates and resolves a gateway config. Throws ConfigError listing every
 * problem found at the first failing stage (file, YAML, interpolation, schema, cross-checks).
 */
export function loadConfig(file?: string, env: Env = process.env): GatewayConfig {
  const configFile = file === undefined ? defaultConfigFile() : resolve(file);
  const shownAs = file ?? configFile;

  const doc = readYaml(configFile, shownAs);
  if (doc === null || doc === undefined) throw ConfigError.single(shownAs, '', 'the file is empty');
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw ConfigError.single(shownAs, '', 'must be a YAML mapping (key: value) at the top');

  const interpolated = interpolateEnv(doc, env);
  if (interpolated.issues.length > 0) throw new ConfigError(shownAs, interpolated.issues);
  const raw = interpolated.value as Record<string, unknown>;
  const overridden = applyEnvOverrides(raw, env);

  const parsed = gatewayConfigSchema.safeParse(raw, { error: configErrorMap });
  if (!parsed.success) throw new ConfigError(shownAs, annotateOverrides(toConfigIssues(parsed.error.issues, raw), overridden));

  const config = resolvePaths(parsed.data, { configFile, configDir: dirname(configFile), cwd: process.cwd(), overridden });
  const problems = [...crossCheck(config), ...fileChecks(config, env)];
  if (problems.length > 0) throw new ConfigError(shownAs, annotateOverrides(problems, overridden));
  return config;
}

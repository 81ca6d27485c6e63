import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { packageRoot } from '../util/package-root.js';
import { profileSchema, type MappingProfile } from './profile-schema.js';

/** A profile that cannot be used: names the file, the key and the problem (never a stack trace). */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  constructor(
    readonly file: string,
    readonly key: string,
    readonly problem: string,
  ) {
    super(`${file}: ${key ? `${key}: ` : ''}${problem}`);
  }
}

export interface LoadProfileOptions {
  /** Partner id: overlays mappings/partners/<id>/<format>.yaml on the base profile. */
  partner?: string;
  /** Root holding partners/ (and optionally base/, else the package's base is used). Default: the package's mappings/. */
  mappingsDir?: string;
  format?: 'hl7v2-adt';
}

const cache = new Map<string, MappingProfile>();

export function defaultMappingsDir(): string {
  return join(packageRoot(), 'mappings');
}

/** Loads, merges and validates a mapping profile. Results are cached per (dir, format, partner). */
export function loadProfile(opts: LoadProfileOptions = {}): MappingProfile {
  const dir = opts.mappingsDir ?? defaultMappingsDir();
  const format = opts.format ?? 'hl7v2-adt';
  const key = `${dir}\0${format}\0${opts.partner ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;

  // A user's mappings folder holds only their partners: the shipped base profile is used unless
  // the folder has a base/ of its own (older setups copied it).
  const ownBase = join(dir, 'base', `${format}.yaml`);
  const baseFile = existsSync(ownBase) ? ownBase : join(defaultMappingsDir(), 'base', `${format}.yaml`);
  const base = readYamlObject(baseFile);
  let merged = base;
  let overlay: Record<string, unknown> | undefined;
  let overlayFile = '';
  if (opts.partner) {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(opts.partner)) throw new ProfileError('(partner)', '', `invalid partner id '${opts.partner}'`);
    overlayFile = join(dir, 'partners', opts.partner, `${format}.yaml`);
    if (!existsSync(overlayFile)) throw new ProfileError(overlayFile, '', `no ${format} profile for partner '${opts.partner}'`);
    overlay = readYamlObject(overlayFile);
    merged = deepMerge(base, overlay);
    merged.id = overlay.id ?? opts.partner;
    if (merged.id !== opts.partner) throw new ProfileError(overlayFile, 'id', `must be '${opts.partner}' (the folder name)`);
  }
  const result = profileSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    let path = issue.path;
    let problem = issue.message;
    if (issue.code === 'unrecognized_keys') {
      path = [...path, issue.keys[0]];
      problem = 'unknown key';
    }
    const file = overlay && hasPath(overlay, path) ? overlayFile : baseFile;
    throw new ProfileError(file, path.map(String).join('.'), problem);
  }
  cache.set(key, result.data);
  return result.data;
}

function readYamlObject(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ProfileError(file, '', 'cannot be read');
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}` : '';
    throw new ProfileError(file, '', `is not valid YAML${where}`);
  }
  if (!isObject(doc)) throw new ProfileError(file, '', 'must be a YAML mapping (key: value)');
  return doc;
}

/** Objects merge key by key (overlay wins); arrays and scalars are replaced. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** The overlay is blamed when it sets the top-level key the problem sits under. */
function hasPath(obj: Record<string, unknown>, path: PropertyKey[]): boolean {
  return path.length > 0 && String(path[0]) in obj;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** For tests and `--config` reloads. */
export function clearProfileCache(): void {
  cache.clear();
}

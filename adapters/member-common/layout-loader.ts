/**
 * Loads a partner's member file layout from `mappings/partners/<id>/member-<format>.yaml`.
 * Errors name the file, the key and the problem (never a value, never a stack trace).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { configErrorMap, toConfigIssues } from '../../src/config/zod-issues.js';
import { defaultMappingsDir, ProfileError } from '../../src/mapping/profile-loader.js';
import { layoutProfileSchema, MEMBER_FORMATS, type LayoutProfile, type MemberFormat } from './layout-schema.js';

export type LoadMemberLayoutOptions<F extends MemberFormat = MemberFormat> =
  { partner: string; format: F; mappingsDir?: string } | { file: string };

/** The layout type of one format. */
export type LayoutOf<F extends MemberFormat> = Extract<LayoutProfile, { format: F }>;

export function memberLayoutPath(partner: string, format: MemberFormat, mappingsDir = defaultMappingsDir()): string {
  return join(mappingsDir, 'partners', partner, `member-${format}.yaml`);
}

export function loadMemberLayout<F extends MemberFormat>(opts: { partner: string; format: F; mappingsDir?: string }): LayoutOf<F>;
export function loadMemberLayout(opts: { file: string }): LayoutProfile;
export function loadMemberLayout(opts: LoadMemberLayoutOptions): LayoutProfile {
  if ('file' in opts) return parseMemberLayout(readYaml(opts.file), opts.file);
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(opts.partner)) throw new ProfileError('(partner)', '', 'invalid partner id');
  if (!MEMBER_FORMATS.includes(opts.format)) throw new ProfileError('(format)', '', `must be one of ${MEMBER_FORMATS.join(', ')}`);
  const file = memberLayoutPath(opts.partner, opts.format, opts.mappingsDir);
  const layout = parseMemberLayout(readYaml(file), file);
  if (layout.id !== opts.partner) throw new ProfileError(file, 'id', `must be '${opts.partner}' (the folder name)`);
  if (layout.format !== opts.format) throw new ProfileError(file, 'format', `must be '${opts.format}' (the file name)`);
  return layout;
}

/** Validates an already-parsed YAML document; `file` is only used in error messages. */
export function parseMemberLayout(doc: unknown, file: string): LayoutProfile {
  const result = layoutProfileSchema.safeParse(doc, { error: configErrorMap });
  if (result.success) return result.data;
  const [first] = toConfigIssues(result.error.issues, doc);
  throw new ProfileError(file, first.key, first.problem);
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ProfileError(file, '', 'cannot be read');
  }
  try {
    const doc: unknown = parseYaml(text);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw new ProfileError(file, '', 'must be a YAML mapping (key: value)');
    return doc;
  } catch (e) {
    if (e instanceof ProfileError) throw e;
    const where = e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}` : '';
    throw new ProfileError(file, '', `is not valid YAML${where}`);
  }
}

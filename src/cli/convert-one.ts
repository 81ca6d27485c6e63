import { statSync } from 'node:fs';
import { convertHl7Message } from '../ingest/convert-message.js';
import type { MappingProfile } from '../mapping/profile-schema.js';

export interface ConvertedForOutput {
  /** The Bundle as one JSON line (no newline); undefined when the message failed. */
  json?: string;
  /** Lines for stderr (failure or warnings), each ending in a newline; '' when none. */
  stderr: string;
}

/**
 * One message for `carebridge convert`, the same in the serial loop and on worker threads:
 * the Bundle as JSON, or a failure line naming the file, message number, line and MSH-10.
 */
export function convertForOutput(
  bytes: Uint8Array,
  profile: MappingProfile,
  where: { file: string; index: number; line: number },
  quiet: boolean,
): ConvertedForOutput {
  const r = convertHl7Message(bytes, profile);
  const label = () => `${where.file}: message ${where.index} (line ${where.line}${r.controlId ? `, MSH-10 ${r.controlId}` : ''})`;
  if (!r.ok) return { stderr: `${label()}: ${r.reason}\n` };
  let stderr = '';
  if (!quiet) for (const w of r.warnings) stderr += `${label()}: warning: ${w}\n`;
  return { json: JSON.stringify(r.bundle), stderr };
}

/** What `convert` says of a file that held no HL7 v2 message at all (empty, blank, or junk only). */
export function noMessageLine(file: string): string {
  return statSync(file).size === 0 ? `${file}: the file is empty\n` : `${file}: no HL7 v2 message in it (no MSH segment)\n`;
}

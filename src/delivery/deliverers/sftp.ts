/**
 * The `sftp` destination type (SFTP file drop): writes one file per delivery into the
 * destination's remote folder. It takes routed messages (FHIR as JSON, or the raw HL7 v2 message),
 * care plans (one JSON file each) and status files (the CSV itself); not roster notices.
 *
 * - Name: the payload may say which file it is (`{ "fileName": "...", "content": "..." }`, as care
 *   plans and weekly status files do); the delivery id is always put in the name, before the
 *   extension (`status-2024-05-06.<deliveryId>.csv`). Any other payload becomes
 *   `carebridge-<deliveryId>.json` (JSON, e.g. a FHIR Bundle), `.hl7` (HL7 v2) or `.txt`.
 * - Atomic: uploaded under a hidden temporary name (`.<name>.part`, which partner pollers globbing
 *   `*.csv` ignore) and renamed into place (posix-rename@openssh.com where offered).
 * - Idempotent: the name is fixed per delivery, so a retry after a lost acknowledgement finds the
 *   file already there and reports it delivered instead of writing a second copy.
 * - The pinned host key is checked before anything is sent; a mismatch, a refused login, a missing
 *   folder or no permission are fatal (retrying cannot fix configuration: dead letter, then requeue
 *   once fixed); network trouble and timeouts retry. Errors never include file content.
 */
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { Client } from 'ssh2';
import type SftpClient from 'ssh2-sftp-client';
import { HostKeyMismatchError, pinnedHostVerifier } from '../../sources/sftp/host-key.js';
import { z } from 'zod';
import { deliveryBase } from '../../config/schema/destination-fields.js';
import { requireOneSshKey, sftpServerFields } from '../../config/schema/primitives.js';
import type { Payload, Rendered } from '../payloads.js';
import type { DeliveryContext, DeliveryOutcome } from '../types.js';
import { defineDestination } from './module.js';

const schema = z
  .strictObject({
    ...deliveryBase,
    type: z.literal('sftp'),
    ...sftpServerFields,
  })
  .superRefine(requireOneSshKey);

/** File drop on an SFTP server. Exactly one of privateKeyFile / privateKeyEnv. */
export interface SftpDestination {
  type: 'sftp';
  id: string;
  /** Per-attempt timeout; a timeout is retried. */
  timeoutMs?: number;
  host: string;
  port: number;
  username: string;
  /** Read at every attempt, so a rotated key needs no restart. */
  privateKeyFile?: string;
  /** Name of the environment variable holding the key (PEM/OpenSSH text or base64). */
  privateKeyEnv?: string;
  passphrase?: string;
  /** `SHA256:<base64>`; any other host key is refused. */
  hostKeySha256: string;
  remoteDir: string;
}

/** A payload that names its file: the name (the deliverer adds the delivery id) and the content. */
export interface FilePayload {
  fileName: string;
  content: string;
}

export const DEFAULT_SFTP_TIMEOUT_MS = 30_000;

// ssh2 SFTP status codes that configuration, not time, has to fix.
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

const HL7_START = /^(MSH|FHS|BHS)/;

export interface SftpFile {
  name: string;
  content: Buffer;
}

/** The remote file for a payload (see the module comment for the naming rules). */
export function sftpFileFor(payload: unknown, deliveryId: string): SftpFile | { error: string } {
  const id = deliveryId.replace(/[^A-Za-z0-9_-]/g, '');
  if (!id) return { error: 'delivery id cannot name a file' };
  // A raw HL7 v2 message (passthrough route) is dropped byte for byte: it may not be UTF-8.
  if (Buffer.isBuffer(payload) && HL7_START.test(payload.subarray(0, 3).toString('latin1'))) {
    return { name: `carebridge-${id}.hl7`, content: payload };
  }
  let text: string;
  if (Buffer.isBuffer(payload)) text = payload.toString('utf8');
  else if (typeof payload === 'string') text = payload;
  else if (typeof payload === 'object' && payload !== null) text = JSON.stringify(payload);
  else return { error: 'SFTP payload must be text, bytes or JSON' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const file = parsed as { fileName?: unknown; content?: unknown } | undefined;
  if (file && typeof file === 'object' && typeof file.fileName === 'string' && typeof file.content === 'string') {
    return { name: withDeliveryId(safeName(file.fileName), id), content: Buffer.from(file.content, 'utf8') };
  }
  const ext = parsed !== undefined ? '.json' : HL7_START.test(text) ? '.hl7' : '.txt';
  return { name: `carebridge-${id}${ext}`, content: Buffer.from(text, 'utf8') };
}

function safeName(name: string): string {
  return (
    posix
      .basename(name)
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^\.+/, '')
      .slice(0, 180) || 'file'
  );
}

function withDeliveryId(name: string, id: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)}.${id}${name.slice(dot)}` : `${name}.${id}`;
}

function privateKeyOf(d: SftpDestination): Buffer | string {
  if (d.privateKeyFile) return readFileSync(d.privateKeyFile);
  const value = d.privateKeyEnv ? process.env[d.privateKeyEnv] : undefined;
  if (!value) throw new ConfigProblem(`environment variable ${d.privateKeyEnv ?? '(none)'} holding the SFTP key is not set`);
  // Like the SFTP source: PEM/OpenSSH text (with \n escapes from .env files), else base64 of it.
  return value.includes('-----BEGIN') ? value.replace(/\\n/g, '\n') : Buffer.from(value.trim(), 'base64');
}

class ConfigProblem extends Error {}

function fatal(error: string, durationMs: number): DeliveryOutcome {
  return { kind: 'fatal', error, durationMs };
}

/**
 * The SSH libraries, loaded at the first drop rather than with the config (which loads this
 * module for its schema): they cost more to load than everything else the config needs.
 */
let sshLibraries: Promise<{ SftpClient: typeof SftpClient; describeConnectError: (err: unknown, target: string) => Error }> | undefined;
const loadSsh = () =>
  (sshLibraries ??= Promise.all([import('ssh2-sftp-client'), import('../../sources/sftp/connection.js')]).then(([client, connection]) => ({
    SftpClient: client.default,
    describeConnectError: connection.describeConnectError,
  })));

function classify(
  err: unknown,
  target: string,
  durationMs: number,
  timeoutMs: number,
  timedOut: boolean,
  describeConnectError: (err: unknown, target: string) => Error,
): DeliveryOutcome {
  if (timedOut) return { kind: 'retry', error: `timeout after ${timeoutMs} ms`, durationMs };
  if (err instanceof HostKeyMismatchError)
    return fatal(`SFTP ${target}: host key mismatch (expected ${err.expected}, got ${err.actual})`, durationMs);
  if (err instanceof ConfigProblem) return fatal(err.message, durationMs);
  const e = err as { code?: unknown; level?: string; message?: string };
  if (e.code === PERMISSION_DENIED) return fatal(`SFTP ${target}: permission denied in the remote folder`, durationMs);
  if (e.code === NO_SUCH_FILE) return fatal(`SFTP ${target}: remote folder does not exist`, durationMs);
  const described = describeConnectError(err, target).message;
  if (/login refused|cannot use the private key/.test(described) || e.code === 'ENOENT' || e.code === 'EACCES')
    return fatal(described, durationMs);
  // The library's messages may carry remote paths; the first line without them is enough.
  return { kind: 'retry', error: described.split(' From: ')[0]!.slice(0, 300), durationMs };
}

/** The SFTP deliverer: never throws; see the module comment for outcomes. */
export async function deliverSftp(payload: unknown, destination: SftpDestination, ctx: DeliveryContext): Promise<DeliveryOutcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const target = `${destination.username}@${destination.host}:${destination.port}`;
  const file = sftpFileFor(payload, ctx.deliveryId);
  if ('error' in file) return fatal(file.error, 0);
  const timeoutMs = destination.timeoutMs ?? DEFAULT_SFTP_TIMEOUT_MS;
  const { SftpClient, describeConnectError } = await loadSsh();
  const client = new SftpClient(`carebridge-drop ${destination.id}`, { error: () => {}, end: () => {}, close: () => {} });
  const ssh = (client as unknown as { client: Client }).client;
  const pin = pinnedHostVerifier(destination.hostKeySha256);
  let timedOut = false;
  const watchdog = setTimeout(() => {
    timedOut = true;
    ssh.destroy();
  }, timeoutMs);
  try {
    await client
      .connect({
        host: destination.host,
        port: destination.port,
        username: destination.username,
        privateKey: privateKeyOf(destination),
        passphrase: destination.passphrase,
        hostVerifier: (key: Buffer) => pin.verify(key),
        readyTimeout: timeoutMs,
      })
      .catch((err: unknown) => {
        throw pin.mismatch() ?? err;
      });
    const dir = destination.remoteDir.replace(/\/+$/, '') || '/';
    const finalPath = posix.join(dir, file.name);
    if ((await client.exists(finalPath)) === '-') return { kind: 'delivered', durationMs: elapsed() };
    const tempPath = posix.join(dir, `.${file.name}.part`);
    await client.put(file.content, tempPath);
    try {
      await client.posixRename(tempPath, finalPath);
    } catch (err) {
      // Thrown before anything is sent when the server lacks the extension; plain rename then.
      if (!/does not support/i.test((err as Error).message ?? '')) throw err;
      await client.rename(tempPath, finalPath);
    }
    return { kind: 'delivered', durationMs: elapsed() };
  } catch (err) {
    return classify(err, target, elapsed(), timeoutMs, timedOut, describeConnectError);
  } finally {
    clearTimeout(watchdog);
    // end() waits for the server to close the session; a wedged server must not hold the worker.
    const grace = setTimeout(() => ssh.destroy(), 5000);
    await client.end().catch(() => ssh.destroy());
    clearTimeout(grace);
  }
}

function render(payload: Payload): Rendered {
  switch (payload.kind) {
    case 'fhir-bundle':
      return payload.json(); // dropped as carebridge-<deliveryId>.json
    case 'careplan':
      return JSON.stringify({ fileName: payload.fileName, content: JSON.stringify(payload.bundle) } satisfies FilePayload);
    case 'status-file':
      return JSON.stringify({ fileName: payload.fileName, content: payload.csv() } satisfies FilePayload);
    default:
      return { skip: `an SFTP drop does not take ${payload.kind}` };
  }
}

export const sftpDestination = defineDestination({
  type: 'sftp',
  schema,
  accepts: ['hl7v2', 'fhir-bundle', 'careplan', 'status-file'],
  render,
  toRuntime: (d): SftpDestination => ({
    type: d.type,
    id: d.id,
    host: d.host,
    port: d.port,
    username: d.username,
    privateKeyFile: d.privateKey,
    privateKeyEnv: d.privateKeyEnv,
    passphrase: d.passphrase,
    hostKeySha256: d.hostKeySha256,
    remoteDir: d.remoteDir,
    timeoutMs: d.timeoutMs,
  }),
  deliver: deliverSftp,
});

/**
 * Building blocks shared by the config schemas. Values may arrive as strings after `${ENV}`
 * interpolation (`port: ${MLLP_PORT:-2575}`), so numbers and booleans also accept their plain
 * string spelling. Messages never echo the value: it may be a secret.
 */
import { z } from 'zod';
import { isValidTimeZone } from '../../fhir/datetime.js';
import { isApiKeyHash } from '../api-keys.js';

const numericString = /^\s*-?\d+\s*$/;

function numberFromString(value: unknown): unknown {
  return typeof value === 'string' && numericString.test(value) ? Number(value) : value;
}

function booleanFromString(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

/** An integer in [min, max] (also from a string of digits). */
export function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.preprocess(
    numberFromString,
    z
      .number({ error: 'must be an integer' })
      .int('must be an integer')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );
}

/** A TCP port; 0 means "pick a free port" (handy for tests). */
export const port = () => int(0, 65_535);

export const bool = () => z.preprocess(booleanFromString, z.boolean({ error: 'must be true or false' }));

export const nonEmpty = (what = 'a non-empty string') => z.string({ error: `must be ${what}` }).min(1, `must be ${what}`);

/** A local file or folder path; relative paths are resolved against the config file's folder. */
export const filePath = () => nonEmpty('a file path');

/** Ids appear in URLs, queue names, metrics labels and mapping folder names. */
export const id = () =>
  z
    .string({ error: 'must be an id' })
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be an id: lowercase letters, digits, "-" or "_" (max 64), starting with a letter or digit');

/** Loopback by default everywhere: listening on other interfaces must be an explicit decision. */
export const host = () => nonEmpty('a host name or IP address').regex(/^[A-Za-z0-9._:-]+$/, 'must be a host name or IP address');

/**
 * A sending application and facility as in MSH-3^MSH-4 (first components), e.g. `EPICADT^MGH`.
 * `*` matches any value in that position; an empty facility matches messages without MSH-4.
 */
export const sender = () =>
  z.string({ error: 'must be APP^FACILITY' }).regex(/^[^^\s]+\^[^^\s]*$/, 'must be APP^FACILITY (MSH-3^MSH-4, "*" as a wildcard)');

/** `http://` or `https://` URL. */
export const httpUrl = () =>
  z.string({ error: 'must be an http(s) URL' }).refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

/** IANA time zone such as America/New_York. */
export const timeZone = () =>
  z.string({ error: 'must be an IANA time zone' }).refine(isValidTimeZone, 'must be an IANA time zone such as America/New_York');

/** `HH:MM`, 24-hour clock. */
export const clockTime = () =>
  z.string({ error: 'must be a time HH:MM' }).regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM (24-hour)');

/**
 * Pinned SSH host key fingerprint as printed by `ssh-keygen -l -E sha256` (`SHA256:<base64>`), or
 * 64 hex digits. Normalized to `SHA256:<base64 without padding>` so deliverers compare one form.
 */
export const hostKeySha256 = () =>
  z.string({ error: 'must be a SHA256 host key fingerprint' }).transform((v, ctx) => {
    const trimmed = v.trim();
    if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return `SHA256:${Buffer.from(trimmed, 'hex').toString('base64').replace(/=+$/, '')}`;
    const b64 = trimmed.replace(/^SHA256:/, '');
    if (/^[A-Za-z0-9+/]{43}=?$/.test(b64)) return `SHA256:${b64.replace(/=+$/, '')}`;
    ctx.addIssue({
      code: 'custom',
      message: 'must be a SHA256 host key fingerprint (SHA256:<base64> as printed by ssh-keygen -l, or 64 hex digits)',
    });
    return z.NEVER;
  });

/** A 5-field cron expression (minute hour day-of-month month day-of-week), optionally 6 with seconds. */
export const cron = () =>
  z.string({ error: 'must be a cron expression' }).refine((v) => {
    const fields = v.trim().split(/\s+/);
    return (fields.length === 5 || fields.length === 6) && fields.every((f) => /^[0-9A-Za-z*/,?LW#-]+$/.test(f));
  }, 'must be a cron expression with 5 fields (minute hour day month weekday) or 6 (with seconds)');

export const apiKeyHash = () =>
  z
    .string({ error: 'must be an API key hash' })
    .refine(isApiKeyHash, 'must be "scrypt:<salt-base64>:<hash-base64>" or "sha256:<64 hex>" (make one with `carebridge hash-key`)');

/** TLS material for a server; files are checked for readability after loading. */
export const serverTls = () =>
  z.strictObject({
    key: filePath(),
    cert: filePath(),
    /** CA bundle to verify clients (mutual TLS). */
    ca: filePath().optional(),
  });

/** SSH private key: a file or the name of an environment variable holding it, exactly one. */
export const sshKeyFields = {
  privateKey: filePath().optional(),
  privateKeyEnv: z
    .string({ error: 'must be an environment variable name' })
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .optional(),
  /** Passphrase of an encrypted private key (use ${ENV}). */
  passphrase: z.string().optional(),
};

/** Where and as whom an SFTP server is reached, for a partner's inbox (source) and a drop (destination). */
export const sftpServerFields = {
  host: host(),
  port: port().default(22),
  username: nonEmpty(),
  ...sshKeyFields,
  hostKeySha256: hostKeySha256(),
  remoteDir: nonEmpty('a remote folder'),
};

export function requireOneSshKey(value: { privateKey?: string; privateKeyEnv?: string }, ctx: z.RefinementCtx): void {
  const count = Number(value.privateKey !== undefined) + Number(value.privateKeyEnv !== undefined);
  if (count !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['privateKey'],
      message: 'give exactly one of privateKey (file) or privateKeyEnv (environment variable name)',
    });
  }
}

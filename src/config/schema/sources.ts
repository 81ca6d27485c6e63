import { z } from 'zod';
import {
  bool,
  clockTime,
  cron,
  filePath,
  host,
  id,
  int,
  nonEmpty,
  port,
  requireOneSshKey,
  sftpServerFields,
  timeZone,
} from './primitives.js';

const mllpTls = z
  .strictObject({
    key: filePath(),
    cert: filePath(),
    /** CA bundle that signs partner client certificates. */
    ca: filePath().optional(),
    /** Mutual TLS: clients must present a certificate signed by `ca`. */
    requestClientCert: bool().default(false),
    /** With mutual TLS: accepted client certificate CNs (empty: any certificate signed by `ca`). */
    allowedClientCNs: z.array(nonEmpty()).default([]),
  })
  .superRefine((tls, ctx) => {
    if (tls.requestClientCert && tls.ca === undefined) {
      ctx.addIssue({ code: 'custom', path: ['ca'], message: 'is required when requestClientCert is true' });
    }
    if (!tls.requestClientCert && tls.allowedClientCNs.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['allowedClientCNs'], message: 'needs requestClientCert: true' });
    }
  });

const sourceBase = {
  id: id(),
  /** The partner this source belongs to; absent on shared sources (identified by sender). */
  partner: id().optional(),
};

/**
 * A strict partner's agreement on what it sends here: anything else is refused with AR (CR in
 * enhanced mode) and stored as rejected. Absent: every well-formed message is accepted.
 */
const accept = z
  .strictObject({
    /** Message types (MSH-9.1), e.g. ADT; absent: any. */
    types: z
      .array(z.string().regex(/^[A-Z][A-Z0-9]{2}$/, 'must be a message type like ADT or ORU'))
      .min(1)
      .optional(),
    /** Trigger events (MSH-9.2), e.g. A01; absent: any. */
    events: z
      .array(z.string().regex(/^[A-Z][A-Z0-9]{2}$/, 'must be a trigger event code like A01'))
      .min(1)
      .optional(),
  })
  .refine((a) => a.types !== undefined || a.events !== undefined, { message: 'give types, events or both' });

/** Sources that receive HL7 v2 messages. */
const hl7SourceBase = { ...sourceBase, accept: accept.optional() };

export const mllpSourceSchema = z.strictObject({
  ...hl7SourceBase,
  type: z.literal('mllp'),
  host: host().default('127.0.0.1'),
  port: port(),
  maxMessageBytes: int(1024).default(10 * 1024 * 1024),
  /** Close a connection idle this long; 0 keeps it (interface engines hold connections for days). */
  idleTimeoutMs: int(0).default(0),
  /**
   * A frame must be complete this long after its start byte, else the connection is closed: a
   * sender dripping bytes resets the idle timeout but not this (issue 11.2).
   */
  frameTimeoutMs: int(100, 600_000).default(60_000),
  /** Further connections are refused; 0 means unlimited. */
  maxConnections: int(0).default(200),
  /** Further connections from one remote address are refused (one host cannot take every slot); 0 means unlimited. */
  maxConnectionsPerAddress: int(0).default(20),
  tls: mllpTls.optional(),
});

/** POST /hl7/v2 and POST /fhir on the gateway's HTTP server. */
export const httpSourceSchema = z.strictObject({
  ...hl7SourceBase,
  type: z.literal('http'),
});

export const SFTP_FORMATS = ['member-csv', 'member-fixed-width', 'x12-834', 'member-xlsx', 'careplan-csv'] as const;

const poll = z
  .strictObject({
    intervalSeconds: int(1).optional(),
    cron: cron().optional(),
    /** Time zone for cron; default UTC. */
    timeZone: timeZone().optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.intervalSeconds === undefined) === (p.cron === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of intervalSeconds or cron' });
    }
    if (p.timeZone !== undefined && p.cron === undefined) {
      ctx.addIssue({ code: 'custom', path: ['timeZone'], message: 'only applies to cron' });
    }
  });

/** How files are taken from a folder, the same for a partner's SFTP server and a local drop folder. */
const folderPolling = {
  partner: id(),
  /** Glob on file names in the folder. */
  pattern: nonEmpty('a file name glob').default('*'),
  format: z.enum(SFTP_FORMATS, { error: `must be one of ${SFTP_FORMATS.join(', ')}` }),
  poll: poll.prefault({ intervalSeconds: 300 }),
  /** A file is taken after its size stayed the same this many looks in a row. */
  stableChecks: int(1, 100).default(2),
  /** Take `x.csv` only once `x.csv<suffix>` exists (e.g. `.done`); replaces the size check. */
  doneMarkerSuffix: nonEmpty().optional(),
  /** Folders (relative to the watched folder unless absolute) for files handled / refused. */
  processedDir: nonEmpty().default('processed'),
  errorDir: nonEmpty().default('error'),
  /** Alert (log, metric, API status) when no file has arrived by this local time each day. */
  expectedDaily: z.strictObject({ by: clockTime(), timeZone: timeZone() }).optional(),
};

export const sftpSourceSchema = z
  .strictObject({
    ...sourceBase,
    ...folderPolling,
    type: z.literal('sftp'),
    ...sftpServerFields,
  })
  .superRefine(requireOneSshKey);

/** An on-premises drop folder (a share the partner's job writes to), polled like an SFTP inbox. */
export const directorySourceSchema = z.strictObject({
  ...sourceBase,
  ...folderPolling,
  type: z.literal('directory'),
  /** The folder files are dropped into (relative to the config file). */
  path: filePath(),
});

export const sourceSchema = z.discriminatedUnion('type', [mllpSourceSchema, httpSourceSchema, sftpSourceSchema, directorySourceSchema], {
  error: 'must be one of mllp, http, sftp, directory',
});

import { DEFAULT_DELIMITERS, type Delimiters } from './delimiters.js';
import { escapeValue } from './escape.js';
import type { Hl7Message } from './message.js';

export type AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';
/** HL7 table 0155: when an acknowledgment is wanted. */
export type AckCondition = 'AL' | 'NE' | 'ER' | 'SU';

/** HL7 table 0357 message error condition codes used by the gateway. */
export const HL7_ERROR = {
  ACCEPTED: '0',
  SEGMENT_SEQUENCE: '100',
  REQUIRED_FIELD_MISSING: '101',
  DATA_TYPE: '102',
  TABLE_VALUE_NOT_FOUND: '103',
  UNSUPPORTED_MESSAGE_TYPE: '200',
  UNSUPPORTED_EVENT: '201',
  UNSUPPORTED_PROCESSING_ID: '202',
  UNSUPPORTED_VERSION: '203',
  UNKNOWN_KEY: '204',
  DUPLICATE_KEY: '205',
  RECORD_LOCKED: '206',
  INTERNAL_ERROR: '207',
} as const;

const ERROR_TEXT: Record<string, string> = {
  '0': 'Message accepted',
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
};

export interface ErrorLocation {
  segment: string;
  sequence?: number;
  field?: number;
  repetition?: number;
  component?: number;
  subcomponent?: number;
}

export interface AckError {
  /** HL7 table 0357 code, e.g. HL7_ERROR.REQUIRED_FIELD_MISSING. */
  code: string;
  severity?: 'E' | 'W' | 'I';
  location?: ErrorLocation;
  /** Short reason for people (no PHI). */
  message?: string;
}

/** What the original message asked for, from MSH-15 (accept) and MSH-16 (application). */
export interface AckMode {
  mode: 'original' | 'enhanced';
  accept: AckCondition;
  application: AckCondition;
}

/** The fields an ACK echoes back; taken from a parsed message or scraped from a broken one. */
export interface AckSource {
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  controlId: string;
  triggerEvent: string;
  processingId: string;
  version: string;
  acceptAckType: string;
  applicationAckType: string;
  delimiters: Delimiters;
}

export function ackSourceOf(msg: Hl7Message): AckSource {
  const m = msg.msh;
  return {
    sendingApplication: m.raw(3),
    sendingFacility: m.raw(4),
    receivingApplication: m.raw(5),
    receivingFacility: m.raw(6),
    controlId: m.get(10),
    triggerEvent: m.get(9, 1, 2),
    processingId: m.raw(11),
    version: m.raw(12),
    acceptAckType: m.get(15),
    applicationAckType: m.get(16),
    delimiters: msg.delimiters,
  };
}

/**
 * Best-effort header read for a payload the parser rejected, so the NACK can still name the
 * message (MSA-2) and go back to the right application. Never throws.
 */
export function scrapeAckSource(text: string): AckSource {
  const at = text.indexOf('MSH');
  const line = at < 0 ? '' : text.slice(at).split(/\r\n|\r|\n/)[0];
  const sep = line[3] && !/[A-Za-z0-9\s]/.test(line[3]) ? line[3] : '|';
  const f = line.split(sep);
  const enc = f[1] ?? '';
  const d: Delimiters =
    enc.length >= 4 && new Set([sep, ...enc.slice(0, 4)]).size === 5
      ? { field: sep, component: enc[0], repetition: enc[1], escape: enc[2], subcomponent: enc[3] }
      : { ...DEFAULT_DELIMITERS, field: sep };
  // MSH-n sits at index n-1 once split (MSH-1 is the separator itself).
  const fld = (n: number) => f[n - 1] ?? '';
  const first = (v: string) => v.split(d.component)[0] ?? '';
  return {
    sendingApplication: fld(3),
    sendingFacility: fld(4),
    receivingApplication: fld(5),
    receivingFacility: fld(6),
    controlId: first(fld(10)),
    triggerEvent: fld(9).split(d.component)[1] ?? '',
    processingId: fld(11),
    version: fld(12),
    acceptAckType: first(fld(15)),
    applicationAckType: first(fld(16)),
    delimiters: d,
  };
}

export function ackModeOf(src: AckSource): AckMode {
  const accept = normCondition(src.acceptAckType);
  const application = normCondition(src.applicationAckType);
  if (!accept && !application) return { mode: 'original', accept: 'AL', application: 'AL' };
  // Enhanced mode: an absent MSH-15/16 defaults to AL per the standard.
  return { mode: 'enhanced', accept: accept ?? 'AL', application: application ?? 'AL' };
}

function normCondition(v: string): AckCondition | undefined {
  const u = v.trim().toUpperCase();
  return u === 'AL' || u === 'NE' || u === 'ER' || u === 'SU' ? u : undefined;
}

/** Whether an acknowledgment with this outcome is wanted under the condition (table 0155). */
export function ackWanted(condition: AckCondition, success: boolean): boolean {
  return condition === 'AL' || (condition === 'SU' && success) || (condition === 'ER' && !success);
}

export interface BuildAckOptions {
  code: AckCode;
  error?: AckError;
  /** MSH-10 of the ACK itself; default derives from the original's control id. */
  controlId?: string;
  /** MSH-7 of the ACK; default now. */
  timestamp?: Date;
  /** Overrides for MSH-3/MSH-4 of the ACK (default: the original's receiving app/facility). */
  sendingApplication?: string;
  sendingFacility?: string;
  /** Segment terminator; default CR as the standard requires. */
  terminator?: string;
}

/**
 * Builds an ACK: MSH (sender/receiver swapped, ACK^<event>^ACK), MSA (code, the original
 * MSH-10) and, for errors, an ERR segment. v2.5+ uses ERR-2/3/4; older versions ERR-1 (ELD).
 */
export function buildAck(src: AckSource, opts: BuildAckOptions): string {
  const d = src.delimiters;
  const F = d.field;
  const enc = d.component + d.repetition + d.escape + d.subcomponent;
  const ts = formatTimestamp(opts.timestamp ?? new Date());
  const ackId = opts.controlId ?? `ACK${src.controlId}`.slice(0, 199);
  const event = src.triggerEvent ? `ACK${d.component}${src.triggerEvent}${d.component}ACK` : 'ACK';
  const msh = [
    'MSH',
    enc,
    opts.sendingApplication ?? src.receivingApplication,
    opts.sendingFacility ?? src.receivingFacility,
    src.sendingApplication,
    src.sendingFacility,
    ts,
    '',
    event,
    escapeValue(ackId, d),
    src.processingId || 'P',
    src.version || '2.5.1',
  ].join(F);
  const text = opts.error?.message ? escapeValue(opts.error.message.slice(0, 80), d) : '';
  const msa = ['MSA', opts.code, escapeValue(src.controlId, d), text].join(F).replace(new RegExp(`${escapeRe(F)}+$`), '');
  const segments = [msh, msa];
  if (opts.error && opts.error.code !== HL7_ERROR.ACCEPTED) segments.push(buildErr(opts.error, src.version, d));
  return segments.join(opts.terminator ?? '\r') + (opts.terminator ?? '\r');
}

function buildErr(err: AckError, version: string, d: Delimiters): string {
  const F = d.field;
  const C = d.component;
  const S = d.subcomponent;
  const text = ERROR_TEXT[err.code] ?? 'Error';
  const loc = err.location;
  const errCode = [err.code, text, 'HL70357'].join(C);
  if (isPre25(version)) {
    // v2.3/2.4 ERR-1 (ELD): segment^sequence^field^code&text&table
    const eld = [loc?.segment ?? '', loc?.sequence ?? '', loc?.field ?? '', [err.code, text, 'HL70357'].join(S)].join(C);
    return ['ERR', eld].join(F);
  }
  const erl = loc
    ? [loc.segment, loc.sequence ?? 1, loc.field ?? '', loc.field ? (loc.repetition ?? 1) : '', loc.component ?? '', loc.subcomponent ?? '']
        .join(C)
        .replace(new RegExp(`${escapeRe(C)}+$`), '')
    : '';
  const diag = err.message ? escapeValue(err.message, d) : '';
  return ['ERR', '', erl, errCode, err.severity ?? 'E', '', '', diag, diag].join(F);
}

function isPre25(version: string): boolean {
  const m = /^2\.(\d)/.exec(version);
  return m ? Number(m[1]) < 5 : false;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** HL7 DTM with seconds and numeric offset, in UTC: YYYYMMDDHHMMSS+0000. */
export function formatTimestamp(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}+0000`
  );
}

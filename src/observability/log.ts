import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

/**
 * Paths that may carry PHI anywhere they appear in a log object. pino replaces them with
 * "[redacted]" before serialization, so a careless `log.info({ msg })` cannot leak a payload.
 * Rule of the codebase: log ids (message id, control id, delivery id), never values.
 */
export const PHI_PATHS = [
  'raw',
  '*.raw',
  'payload',
  '*.payload',
  'body',
  '*.body',
  'fhir',
  '*.fhir',
  'bundle',
  '*.bundle',
  'patient',
  '*.patient',
  'name',
  '*.name',
  'identifier',
  '*.identifier',
  'identifiers',
  '*.identifiers',
  'address',
  '*.address',
  'birthDate',
  '*.birthDate',
  'telecom',
  '*.telecom',
  'ssn',
  '*.ssn',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'secret',
  '*.secret',
  'apiKey',
  '*.apiKey',
];

/**
 * JSON lines for log shippers; on a terminal, readable lines (local time, level, message, fields)
 * through pino-pretty in-process (no worker thread). `pretty` overrides the TTY check.
 */
export function createLogger(options: LoggerOptions = {}, output: { pretty?: boolean; stream?: DestinationStream } = {}): Logger {
  const human = output.pretty ?? process.stdout.isTTY === true;
  const stream =
    output.stream ??
    (human ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', singleLine: true }) : undefined);
  const opts: LoggerOptions = {
    level: process.env.CAREBRIDGE_LOG_LEVEL ?? 'info',
    base: { service: 'carebridge' },
    redact: { paths: PHI_PATHS, censor: '[redacted]' },
    ...options,
  };
  return stream ? pino(opts, stream) : pino(opts);
}

/** A logger that drops everything, for tests and library use. */
export const silentLog: Logger = pino({ level: 'silent' });

export type { Logger };

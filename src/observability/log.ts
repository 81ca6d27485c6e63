import pino, { type Logger, type LoggerOptions } from 'pino';

/**
 * Paths that may carry PHI anywhere they appear in a log object. pino replaces them with
 * "[redacted]" before serialization, so a careless `log.info({ msg })` cannot leak a payload.
 * Rule of the codebase: log ids (message id, control id, delivery id), never values.
 */
export const PHI_PATHS = [
  'raw', '*.raw', 'payload', '*.payload', 'body', '*.body', 'fhir', '*.fhir', 'bundle', '*.bundle',
  'patient', '*.patient', 'name', '*.name', 'identifier', '*.identifier', 'identifiers', '*.identifiers',
  'address', '*.address', 'birthDate', '*.birthDate', 'telecom', '*.telecom', 'ssn', '*.ssn',
  'req.headers.authorization', 'req.headers["x-api-key"]', 'secret', '*.secret', 'apiKey', '*.apiKey',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    level: process.env.CAREBRIDGE_LOG_LEVEL ?? 'info',
    base: { service: 'carebridge' },
    redact: { paths: PHI_PATHS, censor: '[redacted]' },
    ...options,
  });
}

/** A logger that drops everything, for tests and library use. */
export const silentLog: Logger = pino({ level: 'silent' });

export type { Logger };

import { redactSecrets } from '../core/log/redact.js';

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** One-line JSON logger; tests and operators read the same lines. */
export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

// Errors are logged by message, with any URL credentials a driver echoed removed.
function describe(value: unknown): unknown {
  return value instanceof Error ? redactSecrets(value.message) : value;
}

/** A logger writing JSON lines to stdout (info) and stderr (warn, error) with fixed base fields. */
export function createLogger(base: LogFields = {}): Logger {
  const write = (level: 'info' | 'warn' | 'error', msg: string, fields: LogFields = {}): void => {
    const entries = Object.entries(fields).map(([k, v]) => [k, describe(v)] as const);
    const line = JSON.stringify({ level, time: new Date().toISOString(), msg, ...base, ...Object.fromEntries(entries) });
    (level === 'info' ? process.stdout : process.stderr).write(`${line}\n`);
  };
  return {
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}

import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { describeError, UsageError } from './errors.js';

type FlagSpec = Record<string, { type: 'string' | 'boolean' }>;

/** Parses `argv` against `flags` and validates the result with `schema`; any problem is a UsageError. */
export function parseCliArgs<T extends z.ZodType>(argv: string[], flags: FlagSpec, schema: T, usage: string): z.infer<T> {
  let values: unknown;
  try {
    values = parseArgs({ args: argv, options: flags, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${describeError(error)}\nusage: ${usage}`);
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new UsageError(`${issues}\nusage: ${usage}`);
  }
  return parsed.data;
}

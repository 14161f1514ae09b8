/** One Redis command as the REST API receives it: an upper-case name and its arguments as strings. */
export interface RedisCommand {
  name: string;
  args: string[];
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * `@upstash/redis` serializes strings, numbers and booleans as JSON scalars and everything else as a JSON string,
 * so a scalar is all a well-formed argument can be; Redis receives each as its decimal/text form.
 */
function toArgument(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

function toCommand(value: unknown, where: string): Parsed<RedisCommand> {
  if (!Array.isArray(value) || value.length === 0) {
    return { ok: false, error: `ERR ${where} must be a non-empty JSON array like ["SET","key","value"]` };
  }
  const [name, ...rest] = value as unknown[];
  if (typeof name !== 'string' || name.length === 0) {
    return { ok: false, error: `ERR ${where}: the first element must be the command name (a string)` };
  }
  const args: string[] = [];
  for (const [index, item] of rest.entries()) {
    const arg = toArgument(item);
    if (arg === undefined) {
      return { ok: false, error: `ERR ${where}: argument ${index + 1} must be a string, number or boolean` };
    }
    args.push(arg);
  }
  // Upper-case on purpose: ioredis applies reply transformers by lower-case name (HGETALL -> object), and Redis
  // itself does not care about the case, so the raw RESP reply survives untouched.
  return { ok: true, value: { name: name.toUpperCase(), args } };
}

/** Validates the body of `POST /`: one command as a JSON array. */
export function parseCommand(body: unknown): Parsed<RedisCommand> {
  return toCommand(body, 'command');
}

/** Validates the body of `POST /pipeline` and `POST /multi-exec`: a non-empty array of command arrays. */
export function parseCommandList(body: unknown): Parsed<RedisCommand[]> {
  if (!Array.isArray(body) || body.length === 0) {
    return { ok: false, error: 'ERR body must be a non-empty JSON array of commands like [["SET","k","v"],["GET","k"]]' };
  }
  const commands: RedisCommand[] = [];
  for (const [index, item] of (body as unknown[]).entries()) {
    const parsed = toCommand(item, `command ${index + 1}`);
    if (!parsed.ok) return parsed;
    commands.push(parsed.value);
  }
  return { ok: true, value: commands };
}

/** A Redis reply as it appears in the REST API's JSON: strings, integers, null and (nested) arrays. */
export type JsonReply = string | number | null | JsonReply[];

const OK = Buffer.from('OK');

/**
 * Converts a RESP2 reply read with ioredis `callBuffer` (Buffers, numbers, null, arrays, nested ReplyErrors) to
 * JSON. With `base64`, every string at any depth is the base64 of its exact bytes, which is what `@upstash/redis`
 * decodes (`atob` + UTF-8 `TextDecoder`); without it, strings are the bytes read as UTF-8.
 */
export function encodeReply(reply: unknown, base64: boolean): JsonReply {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'number') return reply;
  if (Buffer.isBuffer(reply)) return base64 ? reply.toString('base64') : reply.toString('utf8');
  if (typeof reply === 'string') return base64 ? Buffer.from(reply, 'utf8').toString('base64') : reply;
  if (Array.isArray(reply)) return reply.map((item: unknown) => encodeReply(item, base64));
  // An error nested in an array (e.g. a Lua table holding redis.error_reply) has no JSON form of its own in the
  // REST API; its message is the most useful string to hand back.
  if (reply instanceof Error) return encodeReply(reply.message, base64);
  return encodeReply(String(reply), base64);
}

/**
 * Encodes a command's top-level `result`. Upstash leaves a top-level "OK" unencoded even in base64 mode (the
 * client special-cases exactly that string and nothing nested), so this endpoint does the same.
 */
export function encodeResult(reply: unknown, base64: boolean): JsonReply {
  if (base64 && (reply === 'OK' || (Buffer.isBuffer(reply) && reply.equals(OK)))) return 'OK';
  return encodeReply(reply, base64);
}

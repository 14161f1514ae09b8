/** A Redis stream entry id (`<ms>-<seq>`), parsed. Both parts are safe integers. */
export interface StreamId {
  ms: number;
  seq: number;
}

// Both parts are 64-bit in Redis; ids this app ever writes (`XADD *`) are far inside the safe-integer range, and anything
// longer than 16 digits is not worth trusting from a client.
const STREAM_ID = /^(0|[1-9][0-9]{0,15})-(0|[1-9][0-9]{0,15})$/;

/** Parses a stream id; null for anything else (client input goes through here before it reaches a Redis command). */
export function parseStreamId(value: unknown): StreamId | null {
  if (typeof value !== 'string') return null;
  const match = STREAM_ID.exec(value);
  if (match === null) return null;
  const ms = Number(match[1]);
  const seq = Number(match[2]);
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) ? { ms, seq } : null;
}

/** The id's text form. */
export function formatStreamId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** Negative, zero or positive as `a` is before, equal to or after `b` in a stream. */
export function compareStreamIds(a: StreamId, b: StreamId): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.seq - b.seq;
}

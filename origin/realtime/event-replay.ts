import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { FlowRunFinishedEvent } from './client-events.js';
import { formatStreamId } from './stream-id.js';
import type { StreamId } from './stream-id.js';

/**
 * The redis adapter has no connection-state recovery, so a socket that reconnects (a handover, a network blip) would
 * miss what its room got meanwhile. Every `flow-run-finished` is therefore first appended to a short stream of its
 * platform, and a reconnecting socket is replayed what came after the last event it saw.
 */

/** Entries kept per platform (approximate trimming: `MAXLEN ~`). */
export const REPLAY_MAX_LENGTH = 5_000;
/** A platform's stream disappears this long after its last event: a replay only covers a reconnect, not history. */
export const REPLAY_TTL_SECONDS = 600;
/**
 * Events of one platform are published by several apps; two published within a few ms of each other may reach a
 * socket in the opposite order of their ids. A socket cut off between the two would name the later one as its last
 * event and miss the earlier. A replay therefore starts this long before the client's last event: it repeats a little
 * (the client dedupes by `eventId`, the contract is at least once) and never skips one.
 */
export const REPLAY_REORDER_MARGIN_MS = 1_000;
const REPLAY_PAGE = 500;

/** Redis key of one platform's replay stream, under the app's Socket.IO key (apps that share events share replays). */
export function replayStreamKey(prefix: string, platformId: string): string {
  return `${prefix}:replay:${platformId}`;
}

const StoredEvent = z.object({
  runId: z.string(),
  flowId: z.string(),
  platformId: z.string(),
  status: z.string(),
  workerVersion: z.string().nullable(),
});

export interface EventReplayOptions {
  redis: Redis;
  /** Key prefix: the Socket.IO adapter key (AP_SOCKET_IO_REDIS_KEY). */
  prefix: string;
  maxLength?: number;
  ttlSeconds?: number;
  reorderMarginMs?: number;
}

function decodeEntry(raw: unknown): FlowRunFinishedEvent | null {
  if (!Array.isArray(raw) || raw.length < 2) return null;
  const [id, fields] = raw as unknown[];
  if (typeof id !== 'string' || !Array.isArray(fields)) return null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== 'event') continue;
    try {
      const parsed = StoredEvent.safeParse(JSON.parse(String(fields[i + 1])));
      return parsed.success ? { ...parsed.data, eventId: id } : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** The per-platform replay streams: append on publish, read what a reconnecting socket missed. */
export class EventReplay {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #maxLength: number;
  readonly #ttlSeconds: number;
  readonly #marginMs: number;

  constructor(options: EventReplayOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#maxLength = options.maxLength ?? REPLAY_MAX_LENGTH;
    this.#ttlSeconds = options.ttlSeconds ?? REPLAY_TTL_SECONDS;
    this.#marginMs = options.reorderMarginMs ?? REPLAY_REORDER_MARGIN_MS;
  }

  /** Appends the event to its platform's stream (bounded, expiring) and returns its id. */
  async append(event: FlowRunFinishedEvent): Promise<string> {
    const key = replayStreamKey(this.#prefix, event.platformId);
    const stored = { runId: event.runId, flowId: event.flowId, platformId: event.platformId, status: event.status, workerVersion: event.workerVersion };
    const replies = await this.#redis
      .multi()
      .xadd(key, 'MAXLEN', '~', String(this.#maxLength), '*', 'event', JSON.stringify(stored))
      .expire(key, this.#ttlSeconds)
      .exec();
    const [error, id] = replies?.[0] ?? [new Error('replay append: no reply'), null];
    if (error !== null) throw error;
    if (typeof id !== 'string') throw new Error('replay append: XADD returned no id');
    return id;
  }

  /**
   * The id of the platform's latest event: a socket that joined before this read and reconnects later with it is
   * replayed exactly what came after. `0-0` when the stream is empty or gone (whatever it holds later came after).
   */
  async cursor(platformId: string): Promise<string> {
    const reply = (await this.#redis.call('XREVRANGE', replayStreamKey(this.#prefix, platformId), '+', '-', 'COUNT', '1')) as unknown;
    const [entry] = Array.isArray(reply) ? (reply as unknown[]) : [];
    return Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : '0-0';
  }

  /**
   * The platform's events after `lastEventId` (from the reorder margin before it on), oldest first, at most the
   * stream's length. The platform must come from the socket's verified principal, never from the client.
   */
  async since(platformId: string, lastEventId: StreamId): Promise<FlowRunFinishedEvent[]> {
    const key = replayStreamKey(this.#prefix, platformId);
    let start =
      this.#marginMs > 0 ? formatStreamId({ ms: Math.max(0, lastEventId.ms - this.#marginMs), seq: 0 }) : `(${formatStreamId(lastEventId)}`;
    const events: FlowRunFinishedEvent[] = [];
    while (events.length < this.#maxLength) {
      const page = (await this.#redis.call('XRANGE', key, start, '+', 'COUNT', String(REPLAY_PAGE))) as unknown;
      const entries = Array.isArray(page) ? (page as unknown[]) : [];
      for (const raw of entries) {
        const event = decodeEntry(raw);
        if (event !== null) events.push(event);
      }
      const last = entries.at(-1);
      if (entries.length < REPLAY_PAGE || !Array.isArray(last) || typeof last[0] !== 'string') break;
      start = `(${last[0]}`;
    }
    return events.slice(0, this.#maxLength);
  }
}

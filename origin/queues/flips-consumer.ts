import type { Redis } from 'ioredis';
import { FLIPS_STREAM_KEY, decodeFlipFields } from '../../core/membership/index.js';
import type { FlipEntry } from '../../core/membership/index.js';
import type { Logger } from '../logger.js';

/** Consumer group shared by every app: each flip entry is delivered to one app and stays pending until acked. */
export const FLIPS_GROUP = 'origin-flip-movers';

export type { FlipEntry };

export interface FlipsConsumerOptions {
  /** Opens the consumer's own connection (XREADGROUP BLOCK holds it); the consumer closes it. */
  connect: () => Redis;
  /** This app's consumer name in the group. */
  consumer: string;
  /** Moves the platform's queued jobs; the entry is acked only after it resolves. */
  handle(flip: FlipEntry): Promise<void>;
  /** Entries pending longer than this (their app died or failed) are claimed and handled again. */
  claimIdleMs: number;
  blockMs?: number;
  logger: Logger;
}

function toFlip(raw: unknown): FlipEntry | null {
  if (!Array.isArray(raw) || raw.length < 2) return null;
  const [id, fields] = raw as unknown[];
  return Array.isArray(fields) ? decodeFlipFields(String(id), fields) : null;
}

function readReplyEntries(reply: unknown): unknown[] {
  // XREADGROUP: [[stream, [entry...]]] or null
  if (!Array.isArray(reply)) return [];
  const stream = reply[0] as unknown;
  return Array.isArray(stream) && Array.isArray(stream[1]) ? (stream[1] as unknown[]) : [];
}

function claimReplyEntries(reply: unknown): unknown[] {
  // XAUTOCLAIM: [next-id, [entry...], [deleted-id...]]
  return Array.isArray(reply) && Array.isArray(reply[1]) ? (reply[1] as unknown[]) : [];
}

/**
 * Consumes the edge's flip stream in a consumer group, so that every acknowledged flip is handled by exactly one app
 * (and by another one if that app dies before acking it).
 */
export class FlipsConsumer {
  readonly #options: FlipsConsumerOptions;
  #connection: Redis | null = null;
  #running = false;
  #loop: Promise<void> | null = null;

  constructor(options: FlipsConsumerOptions) {
    this.#options = options;
  }

  /** Creates the group if needed (from the stream's end: older flips were handled by the apps of their time). */
  async start(): Promise<void> {
    const connection = this.#options.connect();
    this.#connection = connection;
    try {
      await connection.call('XGROUP', 'CREATE', FLIPS_STREAM_KEY, FLIPS_GROUP, '$', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.includes('BUSYGROUP'))) throw error;
    }
    this.#running = true;
    this.#loop = this.#run(connection);
  }

  /** Stops reading and closes its connection; an entry being handled finishes first (or stays pending for another app). */
  async close(): Promise<void> {
    this.#running = false;
    // Disconnecting is what ends a blocked XREADGROUP at once.
    this.#connection?.disconnect();
    await this.#loop;
  }

  async #run(connection: Redis): Promise<void> {
    const { consumer, claimIdleMs, logger } = this.#options;
    const blockMs = this.#options.blockMs ?? 2_000;
    let lastClaim = 0;
    while (this.#running) {
      try {
        if (Date.now() - lastClaim >= claimIdleMs / 2) {
          lastClaim = Date.now();
          const claimed = await connection.call('XAUTOCLAIM', FLIPS_STREAM_KEY, FLIPS_GROUP, consumer, String(claimIdleMs), '0-0', 'COUNT', '50');
          await this.#handleAll(connection, claimReplyEntries(claimed));
        }
        const reply = await connection.call(
          'XREADGROUP', 'GROUP', FLIPS_GROUP, consumer, 'COUNT', '20', 'BLOCK', String(blockMs), 'STREAMS', FLIPS_STREAM_KEY, '>',
        );
        await this.#handleAll(connection, readReplyEntries(reply));
      } catch (error) {
        if (!this.#running) break;
        logger.error('flips consumer error', { error });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  async #handleAll(connection: Redis, entries: unknown[]): Promise<void> {
    const { logger } = this.#options;
    for (const raw of entries) {
      const flip = toFlip(raw);
      if (flip === null) {
        // Not a flip this code understands: ack it so it is not redelivered forever.
        const id = Array.isArray(raw) ? raw[0] : undefined;
        if (typeof id === 'string') await connection.call('XACK', FLIPS_STREAM_KEY, FLIPS_GROUP, id);
        logger.warn('malformed flip entry acked and ignored', { entryId: id });
        continue;
      }
      // A long move (a large backlog) must not look abandoned: while it runs, the entry's idle time is reset often
      // enough that no other app's XAUTOCLAIM takes it over and moves the same backlog a second time.
      const keepClaimed = setInterval(() => {
        connection.call('XCLAIM', FLIPS_STREAM_KEY, FLIPS_GROUP, this.#options.consumer, '0', flip.id, 'JUSTID').catch((error: unknown) => {
          logger.warn('could not renew the claim on a flip being handled', { entryId: flip.id, error });
        });
      }, Math.max(100, Math.floor(this.#options.claimIdleMs / 3)));
      try {
        await this.#options.handle(flip);
        await connection.call('XACK', FLIPS_STREAM_KEY, FLIPS_GROUP, flip.id);
        logger.info('flip handled', { entryId: flip.id, ...flip.change });
      } catch (error) {
        // Left pending: XAUTOCLAIM hands it to an app (possibly this one) after claimIdleMs.
        logger.error('flip handling failed, will retry', { entryId: flip.id, ...flip.change, error });
      } finally {
        clearInterval(keepClaimed);
      }
    }
  }
}

import type { Redis } from 'ioredis';
import { FLIPS_STREAM_KEY, decodeFlipFields } from '../../core/membership/index.js';
import type { FlipEntry } from '../../core/membership/index.js';
import type { Logger } from '../logger.js';

export interface FlipsTailOptions {
  /** Opens the tail's own connection (XREAD BLOCK holds it); the tail closes it. */
  connect: () => Redis;
  /** Called for every entry, in stream order, one at a time. */
  onEntry(flip: FlipEntry): Promise<void>;
  blockMs?: number;
  logger: Logger;
}

function entriesOf(reply: unknown): unknown[] {
  // XREAD: [[stream, [entry...]]] or null
  if (!Array.isArray(reply)) return [];
  const stream = reply[0] as unknown;
  return Array.isArray(stream) && Array.isArray(stream[1]) ? (stream[1] as unknown[]) : [];
}

/**
 * Follows the flips stream so that this app sees every entry (the FlipsConsumer's group hands each entry to one app
 * only, which is right for moving jobs and wrong for the sockets every app holds). Starts from the entry current at
 * start: older changes were followed by the apps of their time, and a socket connected after a change was routed by it.
 */
export class FlipsTail {
  readonly #options: FlipsTailOptions;
  #connection: Redis | null = null;
  #running = false;
  #loop: Promise<void> | null = null;

  constructor(options: FlipsTailOptions) {
    this.#options = options;
  }

  /** Reads the id current now, then tails from it in the background. */
  async start(): Promise<void> {
    const connection = this.#options.connect();
    this.#connection = connection;
    const last = (await connection.call('XREVRANGE', FLIPS_STREAM_KEY, '+', '-', 'COUNT', '1')) as unknown;
    const [entry] = Array.isArray(last) ? (last as unknown[]) : [];
    const from = Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : '0-0';
    this.#running = true;
    this.#loop = this.#run(connection, from);
  }

  /** Stops reading and closes its connection; an entry being handled finishes first. */
  async close(): Promise<void> {
    this.#running = false;
    // Disconnecting is what ends a blocked XREAD at once.
    this.#connection?.disconnect();
    await this.#loop;
  }

  async #run(connection: Redis, from: string): Promise<void> {
    const { logger } = this.#options;
    const blockMs = this.#options.blockMs ?? 2_000;
    let lastId = from;
    while (this.#running) {
      try {
        const reply = await connection.call('XREAD', 'COUNT', '100', 'BLOCK', String(blockMs), 'STREAMS', FLIPS_STREAM_KEY, lastId);
        for (const raw of entriesOf(reply)) {
          const id = Array.isArray(raw) ? raw[0] : undefined;
          if (typeof id !== 'string') continue;
          lastId = id;
          const fields = Array.isArray(raw) ? raw[1] : undefined;
          const flip = Array.isArray(fields) ? decodeFlipFields(id, fields) : null;
          if (flip === null) {
            logger.warn('flips tail: entry not understood, ignored', { entryId: id });
            continue;
          }
          try {
            await this.#options.onEntry(flip);
          } catch (error) {
            logger.error('flips tail: handling an entry failed', { entryId: id, error });
          }
        }
      } catch (error) {
        if (!this.#running) break;
        // The position is kept: entries appended meanwhile are read once Redis answers again.
        logger.error('flips tail error', { error });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }
}

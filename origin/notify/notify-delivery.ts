import { createHmac } from 'node:crypto';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Notification } from '../../core/notify/notification.js';
import type { Logger } from '../logger.js';
import { NOTIFY_QUEUE } from '../queues/queue-names.js';

/** Header of the body's signature: `sha256=<hex HMAC-SHA256 of the body with CANARY_NOTIFY_SECRET>`. */
export const SIGNATURE_HEADER = 'x-canary-signature';

/** How long one delivery may take. */
const DELIVERY_TIMEOUT_MS = 10_000;
/** Retries back off from 1 s, doubling, to at most 5 minutes apart: about two days of trying before a job is failed. */
const ATTEMPTS = 600;
const MAX_BACKOFF_MS = 5 * 60_000;

/** The signature header's value for a body. */
export function signatureOf(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The delay before retry `attemptsMade` (1-based): 1 s, 2 s, 4 s... at most MAX_BACKOFF_MS. */
export function notifyBackoffMs(attemptsMade: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attemptsMade - 1));
}

/** A receiver's answer that will not change by retrying the same body: a 4xx other than 408 and 429. */
function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

export interface NotifyDelivery {
  queue: Queue<Notification>;
  close(): Promise<void>;
}

/**
 * The notification queue and its consumer (primary apps): each job POSTs its notification, signed, to the receiver,
 * from the queue, never inline in a tick or a request. At least once: a failure or a 5xx is retried with backoff (the
 * same body and id); a 4xx (bar 408 and 429) is logged and not retried — the body will not get better. Jobs that
 * failed for good stay in the queue's failed set for a week, to be read or retried by hand.
 */
export function startNotifyDelivery(options: {
  connection: Redis;
  url: string;
  secret: string;
  logger: Logger;
  consume: boolean;
  /** The delay before a retry (default notifyBackoffMs); tests shorten it. */
  backoffMs?: (attemptsMade: number) => number;
}): NotifyDelivery {
  const { logger } = options;
  const queue = new Queue<Notification>(NOTIFY_QUEUE, {
    connection: options.connection,
    defaultJobOptions: { attempts: ATTEMPTS, backoff: { type: 'notify' }, removeOnComplete: { age: 24 * 3600, count: 10_000 }, removeOnFail: { age: 7 * 24 * 3600 } },
  });
  queue.on('error', (error) => logger.error('queue error', { queue: NOTIFY_QUEUE, error }));
  const worker = options.consume
    ? new Worker<Notification>(
        NOTIFY_QUEUE,
        async (job) => {
          const body = JSON.stringify(job.data);
          let response: Response;
          try {
            response = await fetch(options.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureOf(body, options.secret) },
              body,
              signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
            });
            await response.arrayBuffer();
          } catch (error) {
            logger.warn('notification not delivered; it will be retried', { id: job.data.id, attempt: job.attemptsMade + 1, error });
            throw error instanceof Error ? error : new Error(String(error));
          }
          if (response.ok) {
            logger.info('notification delivered', { id: job.data.id, event: job.data.event, status: response.status });
            return;
          }
          if (isPermanent(response.status)) {
            logger.error('the notification receiver refused a notification; not retried', { id: job.data.id, status: response.status });
            throw new UnrecoverableError(`the receiver answered ${response.status}`);
          }
          logger.warn('notification not delivered; it will be retried', { id: job.data.id, attempt: job.attemptsMade + 1, status: response.status });
          throw new Error(`the receiver answered ${response.status}`);
        },
        { connection: options.connection, settings: { backoffStrategy: (attemptsMade: number) => (options.backoffMs ?? notifyBackoffMs)(attemptsMade) } },
      )
    : null;
  worker?.on('error', (error) => logger.error('worker error', { queue: NOTIFY_QUEUE, error }));
  return {
    queue,
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}

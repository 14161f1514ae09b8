import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../core/notify/notification.js';
import type { Logger } from '../../origin/logger.js';
import { SIGNATURE_HEADER, notifyBackoffMs, startNotifyDelivery } from '../../origin/notify/notify-delivery.js';
import type { NotifyDelivery } from '../../origin/notify/notify-delivery.js';
import { NOTIFY_QUEUE } from '../../origin/queues/queue-names.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// Delivery from the real queue to a real local receiver that answers what each test scripts.

const SECRET = 'notify-test-secret-0123456789';
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };

interface Received {
  body: string;
  signature: string | undefined;
}

let redisDb: ReservedRedisDb;
let redis: Redis;
let server: http.Server;
let delivery: NotifyDelivery;
let events: QueueEvents;
const received: Received[] = [];
/** Statuses to answer, in order (then 200). */
let script: number[] = [];

beforeAll(async () => {
  redisDb = await reserveRedisDb();
  redis = new Redis(redisDb.url, { maxRetriesPerRequest: null });
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const signature = req.headers[SIGNATURE_HEADER];
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: typeof signature === 'string' ? signature : undefined });
      res.writeHead(script.shift() ?? 200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  delivery = startNotifyDelivery({ connection: redis, url, secret: SECRET, logger: quiet, consume: true, backoffMs: () => 20 });
  events = new QueueEvents(NOTIFY_QUEUE, { connection: redis.duplicate() });
  await events.waitUntilReady();
});
afterAll(async () => {
  await events.close();
  await delivery.close();
  await new Promise((resolve) => server.close(resolve));
  await redis.quit();
  await redisDb.close();
});

function notification(id: string): Notification {
  return { id, at: '2026-12-05T12:00:00.000Z', event: 'pause', plan: null, step: null, verdict: 'fail', evidence: { windowSeconds: 300 }, text: 'canary: pause by judge', actor: 'judge', platformId: null, reason: 'judge: broad failure' };
}

/** Queues a notification and waits until its job is done (completed, or failed for good). */
async function deliver(id: string): Promise<'completed' | 'failed'> {
  const job = await delivery.queue.add('pause', notification(id), { jobId: id });
  try {
    await job.waitUntilFinished(events, 10_000);
    return 'completed';
  } catch {
    return 'failed';
  }
}

const bodiesOf = (id: string): Received[] => received.filter((r) => (JSON.parse(r.body) as Notification).id === id);

describe('notification delivery', () => {
  it('POSTs the notification as JSON, signed with the HMAC-SHA256 of the body', async () => {
    expect(await deliver('n-ok')).toBe('completed');
    const [got] = bodiesOf('n-ok');
    expect(JSON.parse(got?.body ?? '{}')).toEqual(notification('n-ok'));
    expect(got?.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(got?.body ?? '').digest('hex')}`);
  });

  it('retries a receiver that fails or is down, with the same body and id every time, until it takes it', async () => {
    script = [500, 503];
    expect(await deliver('n-retry')).toBe('completed');
    const attempts = bodiesOf('n-retry');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
  });

  it('does not retry a receiver that refuses the body (4xx), and keeps the job as failed', async () => {
    script = [400];
    expect(await deliver('n-refused')).toBe('failed');
    expect(bodiesOf('n-refused')).toHaveLength(1);
    expect(await (await delivery.queue.getJob('n-refused'))?.getState()).toBe('failed');
  });

  it('backs off from 1 s, doubling, to at most 5 minutes between attempts', () => {
    expect([1, 2, 3, 9, 10, 50].map(notifyBackoffMs)).toEqual([1000, 2000, 4000, 256_000, 300_000, 300_000]);
  });
});

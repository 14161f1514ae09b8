import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import { roundTrips } from '../../testkit/round-trips.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

// What the edge refuses or rewrites before any origin sees a request (README "Security"): the worker control plane,
// client-spoofable headers, encoded paths, made-up ids beyond a client's budget, secrets in log lines.

let h: EdgeHarness;
let canaryPlatform: string;

beforeAll(async () => {
  h = await startEdgeHarness();
  canaryPlatform = await h.seedPlatform({ canary: true });
});
afterAll(async () => {
  await h?.close();
});

const originRequests = (): number => h.primary.requests.length + h.canary.requests.length;
/** A client address of its own per test, so the per-client budget of one test never affects another. */
const client = (): Record<string, string> => ({ 'cf-connecting-ip': `198.51.100.${Math.floor(Math.random() * 250) + 1}` });

describe('the worker control plane', () => {
  it.each([
    ['POST', '/v1/worker/runs/r1/result'],
    ['GET', '/v1/worker'],
    ['POST', '/%761/worker/runs/r1/result'],
    ['POST', '/v1/%77orker/runs/r1/result'],
    ['POST', '//v1//worker/runs/r1/result'],
    ['POST', '/V1/WORKER/runs/r1/result'],
    ['GET', '/worker-socket.io/?EIO=4&transport=polling'],
    ['GET', '/%77orker-socket.io/?EIO=4&transport=polling'],
  ])('%s %s answers 404 from the edge itself; no origin sees it', async (method, path) => {
    const before = originRequests();
    const res = await fetch(`${h.url}${path}`, { method, body: method === 'POST' ? '{}' : null, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-origin')).toBeNull();
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'Not found.' } });
    expect(originRequests()).toBe(before);
  });

  it('refuses a WebSocket upgrade to the worker channel', async () => {
    const before = originRequests();
    const ws = new WebSocket(`${h.url.replace(/^http/, 'ws')}/worker-socket.io/?EIO=4&transport=websocket`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    ws.on('error', () => undefined); // terminate() before an established connection reports one
    ws.terminate();
    expect(status).toBe(404);
    expect(originRequests()).toBe(before);
  });

  it('still proxies look-alike paths outside it', async () => {
    const res = await fetch(`${h.url}/v1/workers/list`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-origin')).toBe('primary');
  });
});

describe('request headers', () => {
  it('reach the origin without client-supplied address or URL-rewrite headers', async () => {
    const spoofed = {
      forwarded: 'for=6.6.6.6;proto=https',
      'x-real-ip': '6.6.6.6',
      'true-client-ip': '6.6.6.6',
      'x-original-url': '/v1/admin',
      'x-rewrite-url': '/v1/admin',
      'x-forwarded-port': '444',
      'x-forwarded-prefix': '/evil',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-host': 'evil.example',
    };
    const res = await fetch(`${h.url}/echo`, { headers: { ...spoofed, 'cf-connecting-ip': '203.0.113.7', 'x-custom': 'kept' } });
    const seen = ((await res.json()) as { headers: Record<string, string> }).headers;
    for (const name of ['forwarded', 'x-real-ip', 'true-client-ip', 'x-original-url', 'x-rewrite-url', 'x-forwarded-port', 'x-forwarded-prefix']) {
      expect(seen[name]).toBeUndefined();
    }
    expect(seen['x-forwarded-for']).toBe('203.0.113.7');
    expect(seen['x-forwarded-host']).not.toBe('evil.example');
    expect(seen['x-custom']).toBe('kept');
  });
});

describe('percent-encoded paths', () => {
  it('are classified after decoding: an encoded webhook path routes by its flow', async () => {
    const flowId = await h.seedFlow(canaryPlatform);
    for (const path of [`/v1/webhooks/${flowId}`, `/%761/webhooks/${flowId}`, `/v1/%77ebhooks/${flowId}/sync`]) {
      const res = await fetch(`${h.url}${path}`, { method: 'POST', body: '{}' });
      await res.arrayBuffer();
      expect(res.headers.get('x-origin'), path).toBe('canary');
    }
  });
});

describe('unknown API keys and flow ids', () => {
  const LIMIT = 100; // wrangler.toml UNKNOWN_ID_LIMITER: 100 per 60 s per client

  it('costs no lookup at all when the key cannot be a platform key', async () => {
    h.neon.stats.reset();
    h.upstash.stats.reset();
    const res = await fetch(`${h.url}/v1/flows`, { headers: { authorization: 'Bearer sk-not!a-key', ...client() } });
    await res.arrayBuffer();
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(h.neon.stats.queries).toBe(0);
    expect((await roundTrips(h.upstash.stats)).critical).toBe(0);
  });

  it('are capped per client: over budget, 429 with Retry-After and no database query', async () => {
    const headers = client();
    h.neon.stats.reset();
    const statuses: number[] = [];
    const total = 3 * LIMIT;
    for (let i = 0; i < total; i++) {
      const key = `sk-${crypto.randomUUID().replaceAll('-', '')}`;
      const path = i % 2 === 0 ? '/v1/flows' : `/v1/webhooks/unknown_${crypto.randomUUID().slice(0, 8)}`;
      const res = await fetch(`${h.url}${path}`, { headers: i % 2 === 0 ? { ...headers, authorization: `Bearer ${key}` } : headers });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).toBe('60');
        expect(await res.json()).toMatchObject({ error: { code: 'rate_limited' } });
      } else {
        await res.arrayBuffer();
      }
    }
    const limited = statuses.filter((s) => s === 429).length;
    // A fixed 60-s window may roll over once during the test: at most two budgets are admitted.
    expect(limited).toBeGreaterThanOrEqual(total - 2 * LIMIT);
    expect(h.neon.stats.queries).toBeLessThanOrEqual(2 * LIMIT);
    expect(h.neon.stats.queries).toBe(total - limited);

    // Ids the cache knows cost nothing and are never refused; another client has a budget of its own.
    const known = await h.seedApiKey(canaryPlatform);
    const warm = await fetch(`${h.url}/v1/flows`, { headers: { ...client(), authorization: `Bearer ${known}` } });
    await warm.arrayBuffer();
    const res = await fetch(`${h.url}/v1/flows`, { headers: { ...headers, authorization: `Bearer ${known}` } });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-origin')).toBe('canary');
    const other = await fetch(`${h.url}/v1/flows`, { headers: { ...client(), authorization: `Bearer sk-${crypto.randomUUID().replaceAll('-', '')}` } });
    await other.arrayBuffer();
    expect(other.status).toBe(200);
  });
});

describe('the request log', () => {
  it('carries a hash of a webhook flow id, never the id itself', async () => {
    const flowId = await h.seedFlow(canaryPlatform);
    const res = await fetch(`${h.url}/v1/webhooks/${flowId}/sync`, { method: 'POST', body: '{}' });
    await res.arrayBuffer();
    await expect.poll(() => h.logs.some((l) => l.includes('"path":"/v1/webhooks/~'))).toBe(true);
    expect(h.logs.join('\n')).not.toContain(flowId);
  });
});

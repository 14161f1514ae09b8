import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

let h: EdgeHarness;
let canaryPlatform: string;
let primaryPlatform: string;
let canaryFlow: string;

beforeAll(async () => {
  h = await startEdgeHarness({ storeTimeoutMs: 500 });
  canaryPlatform = await h.seedPlatform({ canary: true });
  primaryPlatform = await h.seedPlatform();
  canaryFlow = await h.seedFlow(canaryPlatform);
});
afterAll(async () => {
  await h?.close();
});

async function request(path: string, platformId: string | null, method = 'GET'): Promise<Response> {
  const headers: Record<string, string> = {};
  if (platformId !== null) headers.authorization = `Bearer ${await signPrincipalJwt(h.jwtSecret, platformId)}`;
  return fetch(`${h.url}${path}`, { method, headers, body: ['GET', 'HEAD', 'OPTIONS'].includes(method) ? null : '{"k":1}' });
}

async function originOf(path: string, platformId: string | null, method = 'GET'): Promise<{ status: number; origin: string | null }> {
  const res = await request(path, platformId, method);
  await res.arrayBuffer();
  return { status: res.status, origin: res.headers.get('x-origin') };
}

/** Accepts connections on a port and never answers: a hung store. */
async function blackHole(port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('store faults', () => {
  it('routes correctly from Postgres while the Upstash endpoint is down', async () => {
    await h.stopUpstash();
    try {
      expect(await originOf('/v1/flows', canaryPlatform)).toEqual({ status: 200, origin: 'canary' });
      expect(await originOf('/v1/flows', primaryPlatform)).toEqual({ status: 200, origin: 'primary' });
      expect(await originOf(`/v1/webhooks/${canaryFlow}`, null, 'POST')).toEqual({ status: 200, origin: 'canary' });
    } finally {
      await h.startUpstash();
    }
    expect(await originOf('/v1/flows', canaryPlatform)).toEqual({ status: 200, origin: 'canary' });
  });

  it('routes from Postgres when Upstash hangs (bounded by the store timeout)', async () => {
    await h.stopUpstash();
    const hole = await blackHole(h.upstash.port);
    try {
      expect(await originOf('/v1/flows', canaryPlatform)).toEqual({ status: 200, origin: 'canary' });
    } finally {
      await hole.close();
      await h.startUpstash();
    }
  });

  it('sends everything to primary, without an edge 5xx, when both stores are down', async () => {
    await Promise.all([h.stopUpstash(), h.stopNeon()]);
    try {
      expect(await originOf('/v1/flows', canaryPlatform)).toEqual({ status: 200, origin: 'primary' });
      expect(await originOf(`/v1/webhooks/${canaryFlow}`, null, 'POST')).toEqual({ status: 200, origin: 'primary' });
      const line = h.logs.filter((l) => l.includes('"msg":"request"')).at(-1) ?? '{}';
      expect(JSON.parse(line)).toMatchObject({ authority: 'none', origin: 'primary', error: expect.stringContaining('unavailable') });
    } finally {
      await Promise.all([h.startUpstash(), h.startNeon()]);
    }
    expect(await originOf('/v1/flows', canaryPlatform)).toEqual({ status: 200, origin: 'canary' });
  });
});

describe('canary origin down', () => {
  beforeAll(async () => {
    await h.stopCanary();
  });
  afterAll(async () => {
    await h.startCanary();
  });

  // Every method's fallback rule is in test/edge/routing-table.test.ts; here the canary's socket is really closed.
  it('serves a GET from the primary instead', async () => {
    expect(await originOf('/v1/flows', canaryPlatform, 'GET')).toEqual({ status: 200, origin: 'primary' });
  });

  it('answers a POST with 502 canary_unavailable and does not send it to primary', async () => {
    const before = h.primary.requests.length;
    const res = await request('/v1/flows', canaryPlatform, 'POST');
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: { code: 'canary_unavailable', message: expect.any(String) } });
    expect(h.primary.requests.length).toBe(before);
  });

  it('answers an OPTIONS with a body (not replayable) with 502 canary_unavailable', async () => {
    const token = await signPrincipalJwt(h.jwtSecret, canaryPlatform);
    const res = await fetch(`${h.url}/v1/flows`, { method: 'OPTIONS', headers: { authorization: `Bearer ${token}` }, body: 'x' });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('canary_unavailable');
  });

  it('routes to canary again once it is back', async () => {
    await h.startCanary();
    expect(await originOf('/v1/flows', canaryPlatform)).toEqual({ status: 200, origin: 'canary' });
    await h.stopCanary();
  });
});

describe('canary reported unreachable by the edge network (52x)', () => {
  let fake: http.Server;

  /** Stands in for Cloudflare answering on behalf of an origin it could not reach (locally, fetch just fails). */
  async function answerEverythingWith(status: number): Promise<void> {
    await h.stopCanary();
    fake = http.createServer((_req, res) => {
      res.writeHead(status, { 'x-origin': 'canary' });
      res.end(`error ${status}`);
    });
    await new Promise<void>((resolve) => fake.listen(h.canary.port, '127.0.0.1', () => resolve()));
  }

  async function restore(): Promise<void> {
    fake.closeAllConnections();
    await new Promise<void>((resolve) => fake.close(() => resolve()));
    await h.startCanary();
  }

  // Each status is a case of test/edge/routing-table.test.ts; here one comes from a real socket.
  it.each([521])('serves GET from the primary and answers POST 502 canary_unavailable on %i', async (status) => {
    await answerEverythingWith(status);
    try {
      expect(await originOf('/v1/flows', canaryPlatform)).toEqual({ status: 200, origin: 'primary' });
      const res = await request('/v1/flows', canaryPlatform, 'POST');
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('canary_unavailable');
    } finally {
      await restore();
    }
  });

  it('passes 524 through: the canary may have processed the request', async () => {
    await answerEverythingWith(524);
    try {
      expect(await originOf('/v1/flows', canaryPlatform, 'POST')).toEqual({ status: 524, origin: 'canary' });
    } finally {
      await restore();
    }
  });
});

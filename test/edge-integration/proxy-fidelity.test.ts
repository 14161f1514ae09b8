import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { patternChunk, startEchoOrigin } from '../../testkit/echo-origin.js';
import type { EchoOrigin } from '../../testkit/echo-origin.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { peakRssMiB, resetPeakRss, rssMiB } from '../../dev/process/process-memory.js';

let h: EdgeHarness;
let evil: EchoOrigin;
let workerdPid: number;
const MiB = 1024 * 1024;
const report: string[] = [];

beforeAll(async () => {
  h = await startEdgeHarness();
  evil = await startEchoOrigin('evil');
  // Without the pid the memory assertions below could not run; a test that cannot measure must not pass.
  if (h.edgePid <= 0) throw new Error('could not find the workerd process the edge harness started');
  workerdPid = h.edgePid;
});
afterAll(async () => {
  console.log(report.join('\n'));
  await evil?.close();
  await h?.close();
});

interface Echo {
  origin: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  bodySha256: string;
  bodyBytes: number;
}

function patternStream(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(256 * 1024, total - sent);
      controller.enqueue(patternChunk(sent, n));
      sent += n;
    },
  });
}

function patternSha256(total: number): string {
  const hash = createHash('sha256');
  for (let off = 0; off < total; off += 256 * 1024) hash.update(patternChunk(off, Math.min(256 * 1024, total - off)));
  return hash.digest('hex');
}

/** Sends raw bytes to the edge and returns the status line and headers once the whole answer has arrived. */
function rawRequest(text: string): Promise<{ status: number; head: string }> {
  const url = new URL(h.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    let data = '';
    const finish = () => {
      const head = data.split('\r\n\r\n')[0] ?? '';
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head });
    };
    socket.on('data', (d) => {
      data += d.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = data.slice(0, end);
      const body = data.slice(end + 4);
      const length = /^content-length:\s*(\d+)/im.exec(head)?.[1];
      if (length !== undefined ? body.length >= Number(length) : /(^|\r\n)0\r\n\r\n$/.test(body)) finish();
    });
    socket.on('error', reject);
    socket.on('close', finish);
    socket.write(text);
  });
}

describe('proxy fidelity', () => {
  it('keeps method, path, query, headers and body intact on the way in', async () => {
    const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 256));
    const res = await fetch(`${h.url}/v1/things/a%20b/c;d?x=1&y=%2F&y=2&empty=`, {
      method: 'PATCH',
      headers: { 'x-custom': 'v1', 'content-type': 'application/octet-stream', accept: 'text/plain', 'x-forwarded-for': '6.6.6.6' },
      body,
    });
    const echo = (await res.json()) as Echo;
    expect(echo).toMatchObject({ origin: 'primary', method: 'PATCH', url: '/v1/things/a%20b/c;d?x=1&y=%2F&y=2&empty=' });
    expect(echo.headers['x-custom']).toBe('v1');
    expect(echo.headers['content-type']).toBe('application/octet-stream');
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echo.headers['x-forwarded-host']).toBe(new URL(h.url).host);
    expect(echo.headers['x-forwarded-proto']).toBe('http');
    expect(echo.headers.host).toBe(new URL(h.primary.url).host);
    expect(echo.bodyBytes).toBe(body.length);
    expect(echo.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it.each([200, 201, 204, 304, 400, 404, 418, 500, 503])('passes status %i through unchanged', async (status) => {
    const res = await fetch(`${h.url}/__status/${status}`);
    await res.arrayBuffer();
    expect(res.status).toBe(status);
    expect(res.headers.get('x-origin')).toBe('primary');
  });

  it('keeps every response header, including several Set-Cookie, and appends the canary cookie after them', async () => {
    const plain = await fetch(`${h.url}/__cookies`);
    expect(await plain.text()).toBe('two cookies');
    expect(plain.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
    expect(plain.headers.get('etag')).toBe('"v1"');
    expect(plain.headers.get('cache-control')).toBe('no-store');

    const platformId = await h.seedPlatform();
    expect((await h.admin({ platformId, canary: true })).status).toBe(200);
    const token = await signPrincipalJwt(h.jwtSecret, platformId);
    const routed = await fetch(`${h.url}/__cookies`, { headers: { authorization: `Bearer ${token}` } });
    await routed.arrayBuffer();
    expect(routed.headers.get('x-origin')).toBe('canary');
    const cookies = routed.headers.getSetCookie();
    expect(cookies.slice(0, 2)).toEqual(['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
    expect(cookies[2]).toMatch(/^ap_canary=/);
  });

  it('passes the echo origin\'s custom header through', async () => {
    const res = await fetch(`${h.url}/anything`);
    await res.arrayBuffer();
    expect(res.headers.get('x-echo-custom')).toBe('origin-value');
  });

  it('passes redirects through instead of following them', async () => {
    const res = await fetch(`${h.url}/__status/302`, { redirect: 'manual' });
    expect(res.status).toBe(302);
  });

  it('keeps response headers and bytes intact on the way out', async () => {
    const res = await fetch(`${h.url}/__bytes/down?n=1000003`);
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(1_000_003);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(patternSha256(1_000_003));
  });

  it('streams a 100 MB upload without buffering it in workerd', async () => {
    const total = 100 * MiB;
    resetPeakRss(workerdPid);
    const before = rssMiB(workerdPid);
    const started = Date.now();
    const res = await fetch(`${h.url}/__bytes/up`, { method: 'POST', body: patternStream(total), duplex: 'half' } as RequestInit);
    const echo = (await res.json()) as { bytes: number; sha256: string };
    expect(echo.bytes).toBe(total);
    expect(echo.sha256).toBe(patternSha256(total));
    const growth = peakRssMiB(workerdPid) - before;
    report.push(`100 MB upload: ${Date.now() - started} ms, workerd RSS ${before.toFixed(0)} MiB -> peak ${peakRssMiB(workerdPid).toFixed(0)} MiB (+${growth.toFixed(0)})`);
    expect(growth).toBeLessThan(64); // a buffered 100 MB body would show as >= 100 MiB
  });

  it('streams a 100 MB download without buffering it in workerd', async () => {
    const total = 100 * MiB;
    resetPeakRss(workerdPid);
    const before = rssMiB(workerdPid);
    const started = Date.now();
    const res = await fetch(`${h.url}/__bytes/down?n=${total}`);
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      hash.update(chunk);
    }
    expect(bytes).toBe(total);
    expect(hash.digest('hex')).toBe(patternSha256(total));
    const growth = peakRssMiB(workerdPid) - before;
    report.push(`100 MB download: ${Date.now() - started} ms, workerd RSS ${before.toFixed(0)} MiB -> peak ${peakRssMiB(workerdPid).toFixed(0)} MiB (+${growth.toFixed(0)})`);
    expect(growth).toBeLessThan(64);
  });
});

describe('WebSocket upgrades', () => {
  function echoOnce(headers: Record<string, string>): Promise<string> {
    const ws = new WebSocket(`${h.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, { headers });
    return new Promise((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (data) => {
        resolve(String(data));
        ws.close();
      });
      ws.on('error', reject);
    });
  }

  it('proxies a WebSocket echo to the primary', async () => {
    expect(await echoOnce({})).toBe('primary:hello');
  });

  it('proxies a WebSocket of a canary principal to the canary', async () => {
    const platformId = await h.seedPlatform({ canary: false });
    expect((await h.admin({ platformId, canary: true })).status).toBe(200);
    const token = await signPrincipalJwt(h.jwtSecret, platformId);
    expect(await echoOnce({ authorization: `Bearer ${token}` })).toBe('canary:hello');
  });
});

describe('path tricks never leave the configured origin', () => {
  const host = () => new URL(h.url).host;
  const evilHost = () => `127.0.0.1:${evil.port}`;

  it.each([
    ['double slash', () => `GET //${evilHost()}/x HTTP/1.1`],
    ['absolute-form target', () => `GET http://${evilHost()}/x HTTP/1.1`],
    ['encoded slashes', () => `GET /%2F%2F${evilHost()}/x HTTP/1.1`],
    ['dot segments', () => `GET /a/../..//${evilHost()}/x HTTP/1.1`],
    ['backslashes', () => `GET /\\\\${evilHost()}/x HTTP/1.1`],
    ['userinfo', () => `GET @${evilHost()}/x HTTP/1.1`],
  ])('%s', async (_name, line) => {
    const before = h.primary.requests.length;
    const { status } = await rawRequest(`${line()}\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`);
    expect(evil.requests).toHaveLength(0);
    if (status === 200) {
      const seen = h.primary.requests.slice(before);
      expect(seen.length).toBe(1);
      expect(seen[0]?.headers.host).toBe(new URL(h.primary.url).host);
    } else {
      expect(status).toBeGreaterThanOrEqual(400);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { requestHeadersForOrigin, responseHeadersForClient } from '../../edge/proxy/forward-headers.js';
import { isPrivateOriginPath, routingPath } from '../../edge/proxy/routing-path.js';
import { targetUrl } from '../../edge/proxy/target-url.js';
import { loggablePath } from '../../edge/middleware/request-log.js';
import { API_KEY_SHAPE } from '../../edge/resolve/resolve-platform.js';
import { cookieApplies } from '../../edge/resolve/resolve-platform.js';
import { flowIdFromPath } from '../../edge/resolve/webhook-path.js';

describe('targetUrl', () => {
  const origin = 'http://127.0.0.1:3000';
  it.each([
    ['http://edge.test//evil.com/x', 'http://127.0.0.1:3000//evil.com/x'],
    ['http://edge.test/%2F%2Fevil.com/x', 'http://127.0.0.1:3000/%2F%2Fevil.com/x'],
    ['http://edge.test/a/../..//evil.com', 'http://127.0.0.1:3000//evil.com'],
    ['http://edge.test/\\\\evil.com/x', 'http://127.0.0.1:3000///evil.com/x'],
    ['http://user:pw@edge.test/p?q=1&r=%20#frag', 'http://127.0.0.1:3000/p?q=1&r=%20'],
  ])('keeps the origin host for %s', (incoming, expected) => {
    const target = targetUrl(origin, new URL(incoming));
    expect(target.toString()).toBe(expected);
    expect(target.host).toBe('127.0.0.1:3000');
  });

  it('prefixes the origin base path', () => {
    expect(targetUrl('https://canary.internal/api/', new URL('http://e/v1/x?y')).toString()).toBe('https://canary.internal/api/v1/x?y');
  });
});

describe('requestHeadersForOrigin', () => {
  it('drops hop-by-hop and Connection-listed headers, keeps end-to-end ones, sets X-Forwarded-*', () => {
    const incoming = new Headers({
      connection: 'keep-alive, x-secret-hop',
      'keep-alive': 'timeout=5',
      'x-secret-hop': '1',
      te: 'trailers',
      'proxy-authorization': 'Basic x',
      'x-forwarded-for': '6.6.6.6',
      authorization: 'Bearer t',
      'x-custom': 'kept',
      host: 'edge.test',
    });
    const out = requestHeadersForOrigin(incoming, { clientIp: '1.2.3.4', host: 'edge.test', proto: 'https' });
    for (const h of ['connection', 'keep-alive', 'x-secret-hop', 'te', 'proxy-authorization', 'host']) expect(out.has(h)).toBe(false);
    expect(out.get('authorization')).toBe('Bearer t');
    expect(out.get('x-custom')).toBe('kept');
    expect(out.get('x-forwarded-for')).toBe('1.2.3.4');
    expect(out.get('x-forwarded-host')).toBe('edge.test');
    expect(out.get('x-forwarded-proto')).toBe('https');
  });

  it('keeps Upgrade for WebSocket requests only', () => {
    const ws = requestHeadersForOrigin(new Headers({ upgrade: 'websocket', connection: 'Upgrade' }), { clientIp: null, host: 'h', proto: 'http' });
    expect(ws.get('upgrade')).toBe('websocket');
    const h2c = requestHeadersForOrigin(new Headers({ upgrade: 'h2c', connection: 'Upgrade' }), { clientIp: null, host: 'h', proto: 'http' });
    expect(h2c.has('upgrade')).toBe(false);
  });

  it('strips hop-by-hop headers from responses', () => {
    const out = responseHeadersForClient(new Headers({ 'transfer-encoding': 'chunked', 'x-ap-version': '1', connection: 'close' }));
    expect([...out.keys()]).toEqual(['x-ap-version']);
  });
});

describe('flowIdFromPath', () => {
  it.each([
    ['/v1/webhooks/flow_1', 'flow_1'],
    ['/v1/webhooks/flow_1/', 'flow_1'],
    ['/v1/webhooks/flow_1/sync', 'flow_1'],
    ['/v1/webhooks/flow_1/draft', 'flow_1'],
    ['/v1/webhooks/flow_1/test', 'flow_1'],
  ])('resolves %s', (path, flowId) => expect(flowIdFromPath(path)).toBe(flowId));

  it.each(['/v1/webhooks', '/v1/webhooks/', '/v1/webhooks/a/b', '/v2/webhooks/x', '/v1/webhooks/%2e%2e', '/x/v1/webhooks/f'])(
    'does not resolve %s',
    (path) => expect(flowIdFromPath(path)).toBeNull(),
  );
});

describe('cookieApplies', () => {
  it.each([
    ['GET', '/'],
    ['GET', '/flows/abc'],
    ['HEAD', '/assets/app.js'],
    ['GET', '/socket.io/?EIO=4&transport=polling'],
    ['POST', '/socket.io/'],
  ])('routes %s %s by the cookie', (method, path) => expect(cookieApplies(method, path.split('?')[0] ?? path)).toBe(true));

  it.each([
    ['GET', '/v1/flags'],
    ['POST', '/v1/authentication/sign-in'],
    ['GET', '/api/v1/flags'],
    ['POST', '/upload'],
  ])('leaves %s %s to the primary', (method, path) => expect(cookieApplies(method, path)).toBe(false));
});

describe('routingPath', () => {
  it.each([
    ['/v1/webhooks/f1', '/v1/webhooks/f1'],
    ['/%761/webhooks/f1', '/v1/webhooks/f1'],
    ['/v1/%77ebhooks/f1/sync', '/v1/webhooks/f1/sync'],
    ['//v1///worker/runs', '/v1/worker/runs'],
    ['/v1%2Fworker/runs', '/v1/worker/runs'],
    ['/bad%zzescape', '/bad%zzescape'],
  ])('%s -> %s', (raw, expected) => {
    expect(routingPath(raw)).toBe(expected);
  });
});

describe('isPrivateOriginPath', () => {
  it.each(['/v1/worker', '/v1/worker/', '/v1/worker/runs/r1/result', '/V1/Worker/runs/r1/result', '/worker-socket.io', '/worker-socket.io/'])(
    'refuses %s',
    (path) => {
      expect(isPrivateOriginPath(path)).toBe(true);
    },
  );

  it.each(['/v1/workers', '/v1/worker-status', '/socket.io/', '/v1/webhooks/worker', '/worker-socket.iox'])('lets %s through', (path) => {
    expect(isPrivateOriginPath(path)).toBe(false);
  });
});

describe('requestHeadersForOrigin (client-spoofable headers)', () => {
  it('drops every header that claims the client address or rewrites the URL', () => {
    const spoofed = [
      'forwarded',
      'x-real-ip',
      'true-client-ip',
      'x-original-url',
      'x-rewrite-url',
      'x-forwarded-port',
      'x-forwarded-prefix',
      'x-forwarded-host',
      'x-forwarded-proto',
      'x-client-ip',
    ];
    const incoming = new Headers(Object.fromEntries(spoofed.map((name) => [name, 'spoofed'])));
    const out = requestHeadersForOrigin(incoming, { clientIp: '1.2.3.4', host: 'edge.test', proto: 'https' });
    for (const name of spoofed) expect(out.get(name)).not.toBe('spoofed');
    expect(out.get('x-forwarded-host')).toBe('edge.test');
    expect(out.get('x-forwarded-proto')).toBe('https');
  });
});

describe('loggablePath', () => {
  it('replaces a webhook flow id (its only credential) with a short hash, however the path is spelled', async () => {
    const plain = await loggablePath('/v1/webhooks/flow_secret123/sync');
    expect(plain).toMatch(/^\/v1\/webhooks\/~[0-9a-f]{12}\/sync$/);
    expect(plain).not.toContain('flow_secret123');
    expect(await loggablePath('/%761/webhooks/flow_secret123/sync')).toBe(plain);
    expect(await loggablePath('/v1/flows/f1')).toBe('/v1/flows/f1');
  });
});

describe('API_KEY_SHAPE', () => {
  it.each([
    ['sk-0123456789abcdef', true],
    [`sk-${'a'.repeat(128)}`, true],
    ['sk-short', false],
    [`sk-${'a'.repeat(129)}`, false],
    ['sk-0123456789abcdef!', false],
    ['sk-0123456789abcde\n', false],
  ])('%j -> %s', (key, ok) => {
    expect(API_KEY_SHAPE.test(key)).toBe(ok);
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { Redis as UpstashRedis } from '@upstash/redis';
import { Redis as IORedis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startUpstashLocal } from '../../dev/upstash-local/server.js';
import type { UpstashLocal } from '../../dev/upstash-local/server.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

const TOKEN = `test-${randomUUID()}`;

let db: ReservedRedisDb;
let local: UpstashLocal;
let direct: IORedis;
let prefix: string;

/** The production client, configured to fail fast and (unless asked) to hand back raw strings. */
function client(overrides: { url?: string; token?: string; deserialize?: boolean } = {}): UpstashRedis {
  return new UpstashRedis({
    url: overrides.url ?? local.url,
    token: overrides.token ?? TOKEN,
    enableTelemetry: false,
    automaticDeserialization: overrides.deserialize ?? false,
    retry: { retries: 0 },
  });
}

interface RawResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A raw REST call, for what the client hides: status codes, encodings, exact JSON. */
async function post(path: string, body: unknown, options: { token?: string | null; base64?: boolean; raw?: string } = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.base64 === true) headers['upstash-encoding'] = 'base64';
  const res = await fetch(`${local.url}${path}`, { method: 'POST', headers, body: options.raw ?? JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

function key(name: string): string {
  return `${prefix}:${name}`;
}

beforeAll(async () => {
  db = await reserveRedisDb();
  direct = new IORedis(db.url, { maxRetriesPerRequest: 1 });
  local = await startUpstashLocal({ redisUrl: db.url, token: TOKEN });
});

afterAll(async () => {
  await local?.close();
  await direct?.quit();
  await db?.close();
});

beforeEach(() => {
  prefix = `upstash-local-test:${randomUUID()}`;
  local.stats.reset();
});

describe('startUpstashLocal()', () => {
  it('listens on a random loopback port and reports its URL', () => {
    expect(local.port).toBeGreaterThan(0);
    expect(local.url).toBe(`http://127.0.0.1:${local.port}`);
  });
});

describe('POST /', () => {
  it('sets, gets and deletes a value through the real client', async () => {
    const redis = client();
    expect(await redis.set(key('k'), 'hello')).toBe('OK');
    expect(await redis.get(key('k'))).toBe('hello');
    expect(await direct.get(key('k'))).toBe('hello');
    expect(await redis.del(key('k'))).toBe(1);
    expect(await redis.get(key('k'))).toBeNull();
  });

  it('returns integers as JSON numbers and a missing key as null', async () => {
    expect(await post('/', ['INCRBY', key('n'), 41])).toMatchObject({ status: 200, body: { result: 41 } });
    expect(await post('/', ['INCR', key('n')])).toMatchObject({ status: 200, body: { result: 42 } });
    expect(await post('/', ['GET', key('missing')])).toMatchObject({ status: 200, body: { result: null } });
  });

  it('keeps RESP2 shapes: HGETALL is a flat array over REST and an object in the client', async () => {
    await direct.hset(key('h'), 'f', 'v');
    expect((await post('/', ['HGETALL', key('h')])).body).toEqual({ result: ['f', 'v'] });
    expect(await client({ deserialize: true }).hgetall(key('h'))).toEqual({ f: 'v' });
  });

  it('answers a Redis error with HTTP 400 and {"error"}, which the client throws', async () => {
    await direct.set(key('s'), 'not a number');
    const res = await post('/', ['INCR', key('s')]);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'ERR value is not an integer or out of range' });
    await expect(client().incr(key('s'))).rejects.toThrow(/not an integer/);
  });

  it('round-trips non-ASCII text, newlines and NUL characters through the client', async () => {
    const redis = client();
    const text = 'nul:\u0000 accents:éü emoji:😀 newline:\n tab:\t';
    await redis.set(key('t'), text);
    expect(await redis.get(key('t'))).toBe(text);
    expect(await direct.get(key('t'))).toBe(text);
  });

  it('stringifies number and boolean arguments as the client serializes them', async () => {
    await client().set(key('num'), 1.5);
    await client().set(key('bool'), true);
    expect(await direct.mget(key('num'), key('bool'))).toEqual(['1.5', 'true']);
  });

  it('sends an upstash-sync-token header for the client to echo', async () => {
    const res = await post('/', ['PING']);
    expect(res.headers.get('upstash-sync-token')).toMatch(/^\d+$/);
  });
});

describe('Upstash-Encoding: base64', () => {
  it('base64-encodes every string in the result, recursively, and leaves "OK", integers and null alone', async () => {
    await direct.rpush(key('l'), 'a', 'OK', 'ü');
    await direct.set(key('s'), 'value');
    const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
    expect((await post('/', ['SET', key('x'), 'y'], { base64: true })).body).toEqual({ result: 'OK' });
    expect((await post('/', ['GET', key('s')], { base64: true })).body).toEqual({ result: b64('value') });
    expect((await post('/', ['LRANGE', key('l'), '0', '-1'], { base64: true })).body).toEqual({ result: [b64('a'), b64('OK'), b64('ü')] });
    expect((await post('/', ['EVAL', 'return {1, {"x"}, ARGV[1]}', '0', 'y'], { base64: true })).body).toEqual({ result: [1, [b64('x')], b64('y')] });
    expect((await post('/', ['LLEN', key('l')], { base64: true })).body).toEqual({ result: 3 });
    expect((await post('/', ['GET', key('missing')], { base64: true })).body).toEqual({ result: null });
  });

  it('returns plain strings without the header', async () => {
    await direct.rpush(key('l'), 'a', 'b');
    expect((await post('/', ['LRANGE', key('l'), '0', '-1'])).body).toEqual({ result: ['a', 'b'] });
  });

  it('returns arbitrary bytes exactly', async () => {
    const bytes = Buffer.concat([Buffer.from([0x00, 0xff, 0x80, 0xc3, 0x28, 0x0a]), randomBytes(4096)]);
    await direct.set(key('bin'), bytes);
    const res = await post('/pipeline', [['GET', key('bin')], ['MGET', key('bin'), key('missing')]], { base64: true });
    const [single, multi] = res.body as [{ result: string }, { result: [string, null] }];
    expect(Buffer.from(single.result, 'base64').equals(bytes)).toBe(true);
    expect(Buffer.from(multi.result[0], 'base64').equals(bytes)).toBe(true);
    expect(multi.result[1]).toBeNull();
  });

  it('does not encode error messages', async () => {
    await direct.set(key('s'), 'x');
    expect((await post('/', ['INCR', key('s')], { base64: true })).body).toEqual({ error: 'ERR value is not an integer or out of range' });
  });
});

describe('POST /pipeline', () => {
  it('returns per-item errors without failing the batch', async () => {
    await direct.set(key('s'), 'text');
    const res = await post('/pipeline', [['SET', key('a'), '1'], ['INCR', key('s')], ['INCR', key('a')]]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ result: 'OK' }, { error: 'ERR value is not an integer or out of range' }, { result: 2 }]);
  });

  it('serves the client pipeline, which surfaces per-item errors with keepErrors', async () => {
    await direct.set(key('s'), 'text');
    const results = await client().pipeline().set(key('a'), 'v').incr(key('s')).get(key('a')).exec({ keepErrors: true });
    expect(results).toEqual([
      { result: 'OK', error: undefined },
      { result: undefined, error: 'ERR value is not an integer or out of range' },
      { result: 'v', error: undefined },
    ]);
  });
});

describe('POST /multi-exec', () => {
  it('runs the client transaction and returns per-item results', async () => {
    const results = await client().multi().set(key('c'), '1').incr(key('c')).get(key('c')).exec();
    expect(results).toEqual(['OK', 2, '2']);
  });

  it('reports a command failing at run time per item while the others apply', async () => {
    const res = await post('/multi-exec', [['SET', key('s'), 'text'], ['INCR', key('s')], ['SET', key('after'), 'yes']]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ result: 'OK' }, { error: 'ERR value is not an integer or out of range' }, { result: 'OK' }]);
    expect(await direct.get(key('after'))).toBe('yes');
  });

  it('discards the whole transaction with HTTP 400 when a command cannot be queued', async () => {
    const res = await post('/multi-exec', [['SET', key('a'), '1'], ['NOSUCHCOMMAND', 'x'], ['SET', key('b'), '2']]);
    expect(res.status).toBe(400);
    expect((res.body as { error: string }).error).toMatch(/^EXECABORT .*NOSUCHCOMMAND/);
    expect(await direct.exists(key('a'), key('b'))).toBe(0);
    // The transaction connection is usable again afterwards.
    expect((await post('/multi-exec', [['SET', key('a'), '1']])).body).toEqual([{ result: 'OK' }]);
  });

  it('never lets another request observe the middle of a transaction', async () => {
    const k = key('atomic');
    await direct.set(k, 'end');
    const transactions = Array.from({ length: 40 }, () => post('/multi-exec', [['SET', k, 'middle'], ['SET', k, 'end']]));
    const reads = Array.from({ length: 40 }, () => post('/pipeline', [['GET', k], ['GET', k]]));
    const [, seen] = await Promise.all([Promise.all(transactions), Promise.all(reads)]);
    const values = seen.flatMap((res) => (res.body as Array<{ result: string }>).map((item) => item.result));
    expect(values).toHaveLength(80);
    expect(new Set(values)).toEqual(new Set(['end']));
  });
});

describe('scripts', () => {
  it('runs EVAL and EVALSHA with keys and arguments', async () => {
    const redis = client();
    const script = 'redis.call("SET", KEYS[1], ARGV[1]); return {redis.call("GET", KEYS[1]), #ARGV}';
    expect(await redis.eval(script, [key('k')], ['v1', 'extra'])).toEqual(['v1', 2]);
    const sha = await redis.scriptLoad(script);
    expect(await redis.evalsha(sha, [key('k')], ['v2'])).toEqual(['v2', 1]);
  });

  it('answers an unknown EVALSHA with NOSCRIPT, so the client Script falls back to EVAL', async () => {
    const redis = client();
    // A nonce makes the script unknown to Redis without SCRIPT FLUSH, which would disturb other users of the server.
    const script = redis.createScript<string>(`-- ${randomUUID()}\nreturn redis.call("INCRBY", KEYS[1], ARGV[1])`);
    const unknown = await post('/', ['EVALSHA', 'f'.repeat(40), '0']);
    expect(unknown).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^NOSCRIPT/) as unknown } });

    local.stats.reset();
    expect(await script.exec([key('n')], ['5'])).toBe(5);
    expect(local.stats.byCommand).toEqual({ EVALSHA: 1, EVAL: 1 });
    expect(await script.exec([key('n')], ['5'])).toBe(10);
    expect(local.stats.byCommand).toEqual({ EVALSHA: 2, EVAL: 1 });
  });

  it('accepts a multi-megabyte body: a script with 100,000 arguments', async () => {
    const args = Array.from({ length: 100_000 }, (_, i) => `argument-${i}-${'x'.repeat(30)}`);
    expect(JSON.stringify(args).length).toBeGreaterThan(4_000_000);
    const result = await client().eval('return {#ARGV, ARGV[#ARGV]}', [], args);
    expect(result).toEqual([100_000, args[args.length - 1]]);
  });
});

describe('authorization', () => {
  it('rejects a wrong token with 401 {"error":"Unauthorized"}', async () => {
    expect(await post('/', ['PING'], { token: 'wrong' })).toMatchObject({ status: 401, body: { error: 'Unauthorized' } });
    expect(await post('/pipeline', [['PING']], { token: `${TOKEN}x` })).toMatchObject({ status: 401, body: { error: 'Unauthorized' } });
  });

  it('rejects a missing token with 401', async () => {
    expect(await post('/multi-exec', [['PING']], { token: null })).toMatchObject({ status: 401, body: { error: 'Unauthorized' } });
  });

  it('makes the client throw on a wrong token', async () => {
    await expect(client({ token: 'wrong' }).get(key('k'))).rejects.toThrow(/Unauthorized/);
  });

  it('accepts the token as a _token query parameter, as Upstash does', async () => {
    expect(await post(`/?_token=${encodeURIComponent(TOKEN)}`, ['PING'], { token: null })).toMatchObject({ status: 200, body: { result: 'PONG' } });
  });
});

describe('malformed requests', () => {
  it('rejects a body that is not JSON with 400', async () => {
    const res = await post('/', undefined, { raw: '["SET", "k"' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.stringMatching(/JSON/) as unknown });
  });

  it.each([
    ['/', { command: 'GET' }],
    ['/', []],
    ['/', [42, 'k']],
    ['/', ['GET', { nested: true }]],
    ['/', ['GET', null]],
    ['/pipeline', ['GET', 'k']],
    ['/pipeline', []],
    ['/multi-exec', [['GET', 'k'], 'PING']],
  ])('rejects the wrong shape on %s (%j) with 400', async (path, body) => {
    const res = await post(path, body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String) as unknown });
  });

  it('answers other methods with 405 and unknown paths with 404', async () => {
    const get = await fetch(`${local.url}/`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(get.status).toBe(405);
    expect(await get.json()).toEqual({ error: 'Method Not Allowed' });
    expect((await post('/nope', ['PING'])).status).toBe(404);
  });
});

describe('unsupported commands', () => {
  it('refuses blocking commands with a clear 400 instead of stalling the connection', async () => {
    const res = await post('/', ['BLPOP', key('q'), '0']);
    expect(res.status).toBe(400);
    expect((res.body as { error: string }).error).toMatch(/BLPOP .*blocking/);
    expect((await post('/', ['XREAD', 'BLOCK', '0', 'STREAMS', key('st'), '$'])).status).toBe(400);
  });

  it('refuses a blocking command inside a pipeline per item', async () => {
    const res = await post('/pipeline', [['BRPOP', key('q'), '0'], ['PING']]);
    expect(res.body).toEqual([{ error: expect.stringMatching(/BRPOP/) as unknown }, { result: 'PONG' }]);
  });

  it('refuses SUBSCRIBE, SELECT and MULTI, which would change the shared connection', async () => {
    expect((await post('/', ['SUBSCRIBE', 'ch'])).status).toBe(400);
    expect((await post('/', ['SELECT', '0'])).status).toBe(400);
    expect((await post('/', ['MULTI'])).body).toEqual({ error: expect.stringMatching(/multi-exec/) as unknown });
    const stream = await fetch(`${local.url}/subscribe/ch`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(stream.status).toBe(400);
    expect(await stream.json()).toEqual({ error: expect.stringMatching(/SUBSCRIBE/) as unknown });
  });
});

describe('stats', () => {
  it('counts one request per HTTP call and one command per item', async () => {
    const redis = client();
    await redis.pipeline().set(key('a'), '1').incr(key('a')).get(key('a')).exec();
    expect(local.stats).toMatchObject({ requests: 1, commands: 3, byCommand: { SET: 1, INCR: 1, GET: 1 } });

    await redis.multi().incr(key('a')).incr(key('a')).exec();
    expect(local.stats).toMatchObject({ requests: 2, commands: 5, byCommand: { SET: 1, INCR: 3, GET: 1 } });

    await post('/', ['get', key('a')]);
    expect(local.stats).toMatchObject({ requests: 3, commands: 6, byCommand: { SET: 1, INCR: 3, GET: 2 } });
  });

  it('does not count rejected requests', async () => {
    await post('/', ['GET', key('a')], { token: 'wrong' });
    await post('/', undefined, { raw: 'not json' });
    await post('/pipeline', []);
    expect(local.stats).toMatchObject({ requests: 0, commands: 0, byCommand: {} });
  });

  it('reset() zeroes every counter', async () => {
    await post('/', ['PING']);
    local.stats.reset();
    expect(local.stats).toMatchObject({ requests: 0, commands: 0, byCommand: {} });
  });
});

describe('close()', () => {
  it('stops serving, so the client rejects, and can restart on the same port', async () => {
    const first = await startUpstashLocal({ redisUrl: db.url, token: TOKEN });
    const redis = client({ url: first.url });
    await redis.set(key('k'), 'before');
    await first.close();
    await expect(redis.get(key('k'))).rejects.toThrow();

    const second = await startUpstashLocal({ redisUrl: db.url, token: TOKEN, port: first.port });
    try {
      expect(second.url).toBe(first.url);
      expect(await redis.get(key('k'))).toBe('before');
      expect(second.stats.requests).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('rejects start-up when Redis is unreachable', async () => {
    await expect(startUpstashLocal({ redisUrl: 'redis://127.0.0.1:1', token: TOKEN })).rejects.toThrow(/cannot connect to Redis/);
  });
});

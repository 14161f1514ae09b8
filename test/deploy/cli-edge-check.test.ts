import { describe, expect, it } from 'vitest';
import { VERSION_TRAFFIC_QUERY } from '../../tools/deploy/edge-analytics.js';
import { API_TOKEN, CLOUDFLARE_ENV, NEW_VERSION, OLD_VERSION } from './support/edge-fixtures.js';
import { invocationsAnswer, useFakeGraphql, type FakeGraphql } from './support/fake-graphql.js';
import { useFakeTools } from './support/fake-tools.js';
import { runDeployCli } from './support/run-deploy-cli.js';

const SINCE = '2026-05-04T09:30:00.000Z';
// A window that ended long ago, so the check judges at once instead of waiting for it.
const ARGS = ['--worker', 'canary-edge-production', '--new', NEW_VERSION, '--old', OLD_VERSION, '--since', SINCE, '--window', '10m'];
const HEALTHY = invocationsAnswer([[OLD_VERSION, 9_000, 9], [NEW_VERSION, 1_000, 2]]);
const UNHEALTHY = invocationsAnswer([[OLD_VERSION, 9_000, 9], [NEW_VERSION, 1_000, 32]]);
const THIN = invocationsAnswer([[OLD_VERSION, 900, 0], [NEW_VERSION, 40, 0]]);

describe('npm run edge:check', () => {
  const fakeTools = useFakeTools();
  const fakeGraphql = useFakeGraphql();
  const check = (graphql: FakeGraphql, args: readonly string[], env: Record<string, string> = CLOUDFLARE_ENV) =>
    runDeployCli('cli-edge-check.ts', args, fakeTools({}), { ...env, CLOUDFLARE_API_BASE_URL: graphql.baseUrl });

  it('exits 0 when the new version errors no more than the old one allows, naming both rates', async () => {
    const graphql = await fakeGraphql([{ body: HEALTHY }]);
    const result = await check(graphql, ARGS);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('healthy: new version errored on 0.20% of 1000 requests, previous version on 0.10% of 9000');
    expect(result.stdout).toContain(`npm run edge:promote -- --env <env> --new ${NEW_VERSION}`);
  });

  it('asks the GraphQL Analytics API for the Worker\'s requests and errors by version over the window, with the token as a bearer', async () => {
    const graphql = await fakeGraphql([{ body: HEALTHY }]);
    await check(graphql, ARGS);
    const [request] = graphql.requests();
    expect(request).toMatchObject({ method: 'POST', path: '/client/v4/graphql', authorization: `Bearer ${API_TOKEN}` });
    expect(request?.body).toEqual({
      query: VERSION_TRAFFIC_QUERY,
      variables: { accountTag: CLOUDFLARE_ENV.CLOUDFLARE_ACCOUNT_ID, scriptName: 'canary-edge-production', since: SINCE, until: '2026-05-04T09:40:00.000Z' },
    });
    expect(VERSION_TRAFFIC_QUERY).toMatch(/workersInvocationsAdaptive\(\s*limit: \d+\s*filter: \{ scriptName: \$scriptName, datetime_geq: \$since, datetime_leq: \$until \}/);
    expect(VERSION_TRAFFIC_QUERY).toMatch(/sum \{ requests errors \}\s*dimensions \{ scriptVersion \}/);
  });

  it('exits 3 naming both rates when the new version errors more than the old one plus the allowed points', async () => {
    const graphql = await fakeGraphql([{ body: UNHEALTHY }]);
    const result = await check(graphql, ARGS);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('unhealthy: new version errored on 3.20% of 1000 requests, previous version on 0.10% of 9000; more than the allowed 0.60%');
    expect(result.stderr).toContain(`npm run edge:rollback -- --env <env> --to ${OLD_VERSION}`);
    expect(result.stdout).not.toMatch(/healthy:/);
  });

  it('judges with --max-increase and --min-requests', async () => {
    const graphql = await fakeGraphql([{ body: UNHEALTHY }]);
    const result = await check(graphql, [...ARGS, '--max-increase', '5', '--min-requests', '1000']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('within the allowed 5.10% (previous + 5 points)');
  });

  it('exits 5 (inconclusive) when too few requests reached a version, after observing one more window', async () => {
    const graphql = await fakeGraphql([{ body: THIN }, { body: THIN }]);
    const result = await check(graphql, ARGS);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('inconclusive: too few requests to compare (new version 40 request(s), previous version 900; each needs at least 200)');
    expect(graphql.requests().map((request) => request.body)).toMatchObject([
      { variables: { since: SINCE, until: '2026-05-04T09:40:00.000Z' } },
      { variables: { since: SINCE, until: '2026-05-04T09:50:00.000Z' } },
    ]);
  });

  it('promotes nothing on thin data: inconclusive, then healthy over the longer window, exits 0', async () => {
    const graphql = await fakeGraphql([{ body: THIN }, { body: HEALTHY }]);
    const result = await check(graphql, ARGS);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/inconclusive from 2026-05-04T09:30:00\.000Z to 2026-05-04T09:40:00\.000Z: too few requests[\s\S]*observing another 10m/);
    expect(result.stdout).toContain('healthy:');
  });

  it('exits 3 when an inconclusive window is followed by a failing one', async () => {
    const graphql = await fakeGraphql([{ body: THIN }, { body: UNHEALTHY }]);
    const result = await check(graphql, ARGS);
    expect(result.code).toBe(3);
    expect(graphql.requests()).toHaveLength(2);
  });

  it('judges once with --extend 0', async () => {
    const graphql = await fakeGraphql([{ body: THIN }]);
    const result = await check(graphql, [...ARGS, '--extend', '0']);
    expect(result.code).toBe(5);
    expect(graphql.requests()).toHaveLength(1);
  });

  it('counts a version missing from the rows as zero requests: inconclusive, never healthy', async () => {
    const graphql = await fakeGraphql([{ body: invocationsAnswer([[OLD_VERSION, 9_000, 0]]) }]);
    const result = await check(graphql, [...ARGS, '--extend', '0']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('new version 0 request(s)');
  });

  it('waits out the window before judging when it starts now', async () => {
    const graphql = await fakeGraphql([{ body: HEALTHY }]);
    const started = Date.now();
    const result = await check(graphql, ['--worker', 'canary-edge-production', '--new', NEW_VERSION, '--old', OLD_VERSION, '--window', '3s']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/observing canary-edge-production until \S+ \(\d+s from now\)/);
    const variables = (graphql.requests()[0]?.body as { variables: { since: string; until: string } }).variables;
    expect(Date.parse(variables.until) - Date.parse(variables.since)).toBe(3_000);
    expect(Date.parse(variables.since)).toBeGreaterThanOrEqual(started - 1_000);
    expect(Date.now() - Date.parse(variables.since)).toBeGreaterThanOrEqual(3_000);
  });

  it.each([
    ['the API answers 403', { status: 403, body: { success: false, errors: [{ code: 10000, message: `Authentication error for ${API_TOKEN}` }] } }, /answered HTTP 403/],
    ['the API answers 502 with an HTML page', { status: 502, body: '<html>Bad gateway</html>' }, /answered HTTP 502 \(<html>Bad gateway<\/html>\)/],
    ['the answer carries GraphQL errors', { body: { data: null, errors: [{ message: 'cannot request data older than 2678400s' }] } }, /GraphQL errors: cannot request data older than 2678400s/],
    ['the answer has no data', { body: { data: null, errors: null } }, /is not visible to this token/],
    ['the account is not in the answer', { body: { data: { viewer: { accounts: [] } }, errors: null } }, /account 023e105f4ecef8ad9ca31a8372d0c353 is not visible to this token/],
    ['the rows are not invocation sums', { body: { data: { viewer: { accounts: [{ workersInvocationsAdaptive: [{ sum: { requests: '9000' }, dimensions: {} }] }] } } } }, /the answer is not workersInvocationsAdaptive rows/],
    ['the answer is not JSON', { body: 'ok' }, /answered something that is not JSON/],
  ])('exits 1 without a verdict when %s, never echoing the token', async (_case, answer, message) => {
    const graphql = await fakeGraphql([answer]);
    const result = await check(graphql, ARGS);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('No verdict: missing data is never "healthy"');
    expect(result.stdout).not.toMatch(/healthy:/);
    expect(result.stdout + result.stderr).not.toContain(API_TOKEN);
  });

  it('exits 1 without a verdict when the API cannot be reached', async () => {
    const graphql = await fakeGraphql([]);
    await graphql.close();
    const result = await check(graphql, ARGS);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\/client\/v4\/graphql did not answer/);
  });

  it.each([
    ['a malformed --new', ['--worker', 'canary-edge-production', '--new', 'latest', '--old', OLD_VERSION], /--new: must be a Worker version id/],
    ['a missing --old', ['--worker', 'canary-edge-production', '--new', NEW_VERSION], /--old: is required/],
    ['the same version twice', ['--worker', 'canary-edge-production', '--new', NEW_VERSION, '--old', NEW_VERSION], /--new and --old are both/],
    ['a missing --worker', ['--new', NEW_VERSION, '--old', OLD_VERSION], /--worker: is required/],
    ['a malformed --window', [...ARGS, '--window', 'ten minutes'], /--window: must be a duration/],
    ['a malformed --since', [...ARGS, '--since', 'yesterday'], /--since: must be an ISO 8601 time/],
    ['a --since far in the future', [...ARGS, '--since', '2999-01-01T00:00:00Z'], /--since: must not be more than an hour from now/],
    ['a --window of nothing', [...ARGS, '--window', '0s'], /--window: must be more than 0s and at most 24h/],
    ['a malformed --min-requests', [...ARGS, '--min-requests', 'many'], /--min-requests: must be a whole number/],
  ])('exits 2 on %s, asking nothing', async (_case, args, message) => {
    const graphql = await fakeGraphql([{ body: HEALTHY }]);
    const result = await check(graphql, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(graphql.requests()).toEqual([]);
  });

  it('exits 2 naming the variables when the credentials are not set, asking nothing', async () => {
    const graphql = await fakeGraphql([{ body: HEALTHY }]);
    const result = await check(graphql, ARGS, { CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_ACCOUNT_ID: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID are not set');
    expect(graphql.requests()).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { writeJudgeRecord } from '../../core/judge/judge-record.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { createIoredisScriptRunner } from '../../origin/membership/ioredis-script-runner.js';
import { SCENARIOS, SIMULATION_SETTINGS, simulate } from '../../testkit/judge-simulation.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';
import { runTsCli } from '../migrations/support/cli.js';
import type { CliResult } from '../migrations/support/cli.js';

// `npx canary-edge` end to end: the CLI as a real process against the real edge (workerd, Redis, Postgres).

let h: EdgeHarness;
beforeAll(async () => {
  h = await startEdgeHarness();
});
afterAll(async () => {
  await h?.close();
});

function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runTsCli('tools/operator/cli-canary-edge.ts', args, {
    env: { CANARY_EDGE_URL: h.url, AP_API_KEY: h.apiKey, CANARY_ACTOR: 'cli-test', NO_COLOR: '', ...env },
  });
}

describe('npx canary-edge', () => {
  it('pins a platform with a reason, shows it in status, list and the audit log', async () => {
    const platformId = await h.seedPlatform();
    const enabled = await cli(['enable', platformId, '--reason', 'beta tester']);
    expect(enabled).toMatchObject({ code: 0, stdout: `${platformId} pinned into the canary\n`, stderr: '' });

    const status = await cli(['status', platformId]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^PLATFORM +ROUTE +WHY\\n${platformId} +canary +explicit\\n$`));

    const list = await cli(['list']);
    expect(list.stdout).toMatch(new RegExp(`${platformId} +pinned in`));

    const audit = await cli(['audit', '--platform', platformId]);
    expect(audit.stdout.split('\n')[0]).toMatch(/^ID +AT +ACTOR +ACTION +PLATFORM +CHANGE +REASON$/);
    expect(audit.stdout).toMatch(new RegExp(`api:cli-test +pin +${platformId} .*beta tester`));
  });

  it('revokes every override token minted until now', async () => {
    const minted = await cli(['override', 'canary', '--ttl', '1h']);
    const token = minted.stdout.split('\n')[2] ?? '';
    const revoked = await cli(['revoke-overrides', '--reason', 'leaked']);
    expect(revoked).toMatchObject({ code: 0, stdout: expect.stringMatching(/^every override token minted before \d{4}-.*Z is revoked\n$/) });
    const res = await fetch(`${h.url}/v1/health`, { headers: { 'x-canary-override': token } });
    await res.arrayBuffer();
    expect(res.headers.get('x-canary-routed')).toBeNull();
  });

  it('prints values with control characters escaped, whatever the database holds', async () => {
    const platformId = await h.seedPlatform();
    // An entry written around the API (an older build accepted this reason): the CLI must still not obey it.
    await h.pool.query(`INSERT INTO canary_audit (actor, action, platform_id, reason) VALUES ($1, 'pin', $2, $3)`, ['evil\u001b]0;pwned\u0007', platformId, 'ok\u001b[2J\u202egnp']);
    const audit = await cli(['audit', '--platform', platformId]);
    expect(audit.code).toBe(0);
    expect([...audit.stdout].filter((ch) => (ch < ' ' && ch !== '\n') || ch === '\u007f' || ch === '\u202e')).toEqual([]);
    expect(audit.stdout).toContain('evil\\x1b]0;pwned\\x07');
    expect(audit.stdout).toContain('ok\\x1b[2J\\u202egnp');
  });

  it('prints the API\'s JSON with --json, for scripts', async () => {
    const platformId = await h.seedPlatform();
    const result = await cli(['--json', 'status', platformId]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ platformId, canary: false, source: 'default' });
    const overview = JSON.parse((await cli(['--json', 'status'])).stdout) as { paused: boolean; rollout: { percent: number } };
    expect(overview).toMatchObject({ paused: false, rollout: { percent: 0 } });
  });

  it('pauses and resumes, and the edge follows each step', async () => {
    const platformId = await h.seedPlatform();
    await cli(['enable', platformId]);
    const route = async (): Promise<string | null> => {
      const res = await fetch(`${h.url}/v1/flows`, { headers: { authorization: `Bearer ${await signPrincipalJwt(h.jwtSecret, platformId)}` } });
      await res.arrayBuffer();
      return res.headers.get('x-origin');
    };
    expect(await route()).toBe('canary');
    expect(await cli(['pause', '--reason', 'drill'])).toMatchObject({ code: 0, stdout: 'canary routing PAUSED: everyone goes to the primary\n' });
    expect(await route()).toBe('primary');
    expect((await cli(['status'])).stdout).toContain('PAUSED');
    expect(await cli(['resume'])).toMatchObject({ code: 0, stdout: 'canary routing resumed\n' });
    expect(await route()).toBe('canary');
  });

  it('sets the rollout and makes a platform follow it', async () => {
    const platformId = await h.seedPlatform();
    await cli(['disable', platformId]);
    expect(await cli(['rollout', '100', '--reason', 'everyone'])).toMatchObject({ code: 0, stdout: 'rollout set to 100%\n' });
    expect((await cli(['status', platformId])).stdout).toMatch(/primary +explicit/);
    expect(await cli(['follow', platformId])).toMatchObject({ code: 0, stdout: `${platformId} follows the rollout: now canary\n` });
    expect(await cli(['rollout', '0'])).toMatchObject({ code: 0 });
    expect((await cli(['status', platformId])).stdout).toMatch(/primary +default/);
  });

  it('mints an override and prints the token, a ready curl and the browser link, each of which works', async () => {
    const platformId = await h.seedPlatform();
    const result = await cli(['override', 'canary', '--platform', platformId, '--ttl', '2h']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^override to canary for ${platformId}, valid until \\d{4}-\\d\\d-\\d\\dT`));
    const token = lines[2] ?? '';
    expect(token).toMatch(/^ov1\./);
    expect(result.stdout).toContain(`curl -si ${h.url}/v1/health -H "x-canary-override: ${token}"`);
    expect(result.stdout).toContain(`${h.url}/__canary/override?token=${encodeURIComponent(token)}`);
    const until = Date.parse(lines[0]?.replace(/^.*valid until /, '') ?? '');
    expect(until - Date.now()).toBeGreaterThan(7_100_000);
    expect(until - Date.now()).toBeLessThanOrEqual(7_200_000);

    const res = await fetch(`${h.url}/v1/flows`, {
      headers: { authorization: `Bearer ${await signPrincipalJwt(h.jwtSecret, platformId)}`, 'x-canary-override': token },
    });
    await res.arrayBuffer();
    expect([res.headers.get('x-origin'), res.headers.get('x-canary-routed')]).toEqual(['canary', 'canary']);
    // The link shows the token and its button (a GET sets nothing).
    const link = await fetch(`${h.url}/__canary/override?token=${encodeURIComponent(token)}`, { redirect: 'manual' });
    expect(link.status).toBe(200);
    expect(await link.text()).toContain('Apply to this browser');
    expect((await cli(['audit', '--platform', platformId])).stdout).toMatch(new RegExp(`api:cli-test +override +${platformId}`));
  });

  it('shows the health window per origin, the judge\'s verdict per metric, the platforms that drove it and the quarantine', async () => {
    type Counts = { requests: number; errors: number };
    const countsNow = async (): Promise<Counts> => {
      const answer = await cli(['--json', 'health']);
      expect(answer.code).toBe(0);
      return (JSON.parse(answer.stdout) as { origins: { canary: Counts } }).origins.canary;
    };
    const platformId = await h.seedPlatform();
    expect((await cli(['enable', platformId])).code).toBe(0);
    const auth = { authorization: `Bearer ${await signPrincipalJwt(h.jwtSecret, platformId)}` };
    const before = await countsNow();
    for (const path of ['/v1/flows', '/__status/503']) {
      const res = await fetch(`${h.url}${path}`, { headers: auth });
      await res.arrayBuffer();
    }
    // The edge flushes its counts within about a second of a request.
    let after = before;
    for (const deadline = Date.now() + 15_000; after.errors < before.errors + 1 && Date.now() < deadline; ) after = await countsNow();
    expect(after).toEqual({ requests: before.requests + 2, errors: before.errors + 1, errorRate: (before.errors + 1) / (before.requests + 2) });
    const table = await cli(['health']);
    expect(table.code).toBe(0);
    const rate = (((before.errors + 1) / (before.requests + 2)) * 100).toFixed(2);
    expect(table.stdout).toMatch(new RegExp(`^last 300s at the edge:\\nORIGIN +REQUESTS +ERRORS +ERROR RATE\\nprimary +\\d+ +\\d+ +(-|[\\d.]+%)\\ncanary +${before.requests + 2} +${before.errors + 1} +${rate}%\\n`));
    expect(table.stdout).toContain('judge: nothing reported yet');
    expect(table.stdout).toContain('quarantined: none');

    // What a judge in a primary app writes after a tick: the product's judge over a seeded draw where p0 fails.
    const [outcome] = simulate(SCENARIOS.oneTenantBroken, 1, 7);
    const redis = new Redis(h.redisDb.url, { maxRetriesPerRequest: 1 });
    try {
      await writeJudgeRecord(createIoredisScriptRunner(redis), {
        at: new Date().toISOString(),
        verdict: 'fail',
        action: 'quarantined',
        quarantined: ['p0'],
        problem: null,
        windowSeconds: 300,
        settings: SIMULATION_SETTINGS,
        metrics: outcome?.metrics ?? null,
      });
    } finally {
      await redis.quit();
    }
    const judged = await cli(['health']);
    expect(judged.stdout).toMatch(/last verdict: fail at .* \(it quarantined p0\)/);
    expect(judged.stdout).toMatch(/METRIC +VERDICT +WHY\nrequestErrors +fail +canary server-error rate/);
    expect(judged.stdout).toMatch(/PLATFORM +METRIC +BAD +OF +EXCESS\np0 +requestErrors +\d+ +\d+ /);
  });

  it('releases a quarantined platform: it follows the rollout again, audited as release', async () => {
    const platformId = await h.seedPlatform();
    await h.pool.query('UPDATE platform_plan SET canary = false, canary_explicit = true WHERE platform_id = $1', [platformId]);
    await h.pool.query(`INSERT INTO canary_audit (actor, action, platform_id) VALUES ('judge', 'quarantine', $1)`, [platformId]);
    expect((await cli(['health'])).stdout).toContain(`quarantined: ${platformId}`);
    expect(await cli(['release', platformId, '--reason', 'fixed in 0.2.1'])).toMatchObject({ code: 0, stdout: `${platformId} released: it follows the rollout again, now primary\n` });
    expect((await cli(['status', platformId])).stdout).toMatch(new RegExp(`${platformId} +primary +default`));
    expect((await cli(['audit', '--platform', platformId])).stdout).toMatch(/api:cli-test +release .*fixed in 0\.2\.1/);
  });

  it('starts a release plan from its shorthand, shows it as a timeline, holds, resumes and aborts it; a second start is refused (409)', async () => {
    const started = await cli(['plan', 'start', '--steps', '5,25,100', '--bake', '10m', '--approval-before', '100', '--reason', 'weekly']);
    expect(started).toMatchObject({ code: 0, stdout: expect.stringContaining('started: its first step is applied on the judge\'s next tick') });
    const json = JSON.parse((await cli(['--json', 'plan', 'status'])).stdout) as { state: string; steps: unknown[]; maxBakeSeconds: number };
    expect(json).toMatchObject({ state: 'running', steps: [{ percent: 5, bakeSeconds: 600 }, { percent: 25, bakeSeconds: 600 }, { approval: true }, { percent: 100, bakeSeconds: 600 }], maxBakeSeconds: 2400 });
    const status = await cli(['plan', 'status']);
    expect(status.stdout).toMatch(/STEP +WHAT +BAKE +STATUS\n1 +5% +600s +starting\n2 +25% +600s +next\n3 +approval +- +next\n4 +100% +600s +next/);
    expect(await cli(['plan', 'start', '--steps', '10', '--bake', '1m'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/is active: hold, finish or abort it.*\(409 plan_active\)/) });
    expect(await cli(['plan', 'approve'])).toMatchObject({ code: 1, stderr: expect.stringContaining('No approval is pending') });
    expect((await cli(['plan', 'hold', '--reason', 'freeze'])).stdout).toContain('held by api:cli-test: freeze');
    expect((await cli(['plan', 'resume'])).stdout).toContain('running');
    expect((await cli(['plan', 'abort', '--reason', 'not this week'])).stdout).toContain('aborted');
    expect((await cli(['audit', '--limit', '5'])).stdout).toMatch(/api:cli-test +plan-abort/);
  });

  it('refuses a plan the API would refuse, before asking, with the same words (exit 2)', async () => {
    expect(await cli(['plan', 'start', '--steps', '50,10', '--bake', '1m'])).toMatchObject({ code: 2, stderr: expect.stringContaining('steps.1.percent: must not be lower than the step before (50)') });
    expect(await cli(['plan', 'start', '--steps', '10', '--bake', 'soon'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--bake: must be a duration') });
    expect(await cli(['plan', 'start', '--steps', '10,50', '--bake', '1m', '--approval-before', '20'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--approval-before: must be one of the --steps') });
  });

  it('exits 1 with the edge\'s message when it refuses the request', async () => {
    const result = await cli(['enable', 'no-such-platform']);
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'error: Platform no-such-platform does not exist: nothing was changed. (404 platform_not_found)\n' });
    const wrongKey = await cli(['list'], { AP_API_KEY: 'not-the-key' });
    expect(wrongKey).toMatchObject({ code: 1, stderr: 'error: Invalid api-key. (401 unauthorized)\n' });
  });

  it('exits 1 naming the fix when the key is missing or the edge is not there', async () => {
    expect(await cli(['list'], { AP_API_KEY: '' })).toMatchObject({ code: 1, stderr: expect.stringContaining('AP_API_KEY is not set') });
    const unreachable = await cli(['list'], { CANARY_EDGE_URL: 'http://127.0.0.1:9' });
    expect(unreachable).toMatchObject({ code: 1, stderr: 'error: cannot reach http://127.0.0.1:9 (nothing answered) — is the edge running? (npm start), or set CANARY_EDGE_URL\n' });
  });

  it.each([
    [['rollout', '101'], '<percent>: must be a percentage from 0 to 100 with two decimals at most'],
    [['rollout', '12.345'], '<percent>: must be a percentage from 0 to 100 with two decimals at most'],
    [['override', 'elsewhere'], '<target> must be canary or primary'],
    [['override', 'canary', '--ttl', '10s'], '--ttl: must be at least 1m'],
    [['override', 'canary', '--ttl', '25h'], '--ttl: must be more than 0s and at most 24h'],
    [['audit', '--limit', '0'], '--limit: must be 1 to 500'],
    [['enable'], "missing required argument 'platformId'"],
    [['fly'], "unknown command 'fly'"],
    [[], 'a command is required'],
  ])('exits 2 on %j, naming the problem and the usage', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toMatch(/usage: canary-edge/);
  });

  it('aligns the audit table and keeps colour off when stdout is not a terminal', async () => {
    const result = await cli(['audit', '--limit', '5']);
    expect(result.stdout).not.toContain('\u001b[');
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    const actorColumn = header?.indexOf('ACTOR') ?? -1;
    for (const row of rows) expect(row.slice(actorColumn, actorColumn + 8)).not.toMatch(/^ /);
  });
});

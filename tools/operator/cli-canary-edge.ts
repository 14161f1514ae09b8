import { z } from 'zod';
import type { Driver } from '../../core/judge/judge.js';
import type { JudgeRecord } from '../../core/judge/judge-record.js';
import type { AuditEntry } from '../../core/membership/index.js';
import { percentFromText, percentInput, platformIdInput, reasonInput, validateInput } from '../../core/operator/inputs.js';
import { UsageError, createProgram, durationSchema, runCli, validateOptions } from '../cli/index.js';
import type { CliCommand } from '../cli/index.js';
import { adminTargetFromEnv, callAdmin } from './admin-client.js';
import type { AdminTarget } from './admin-client.js';
import { addPlanCommands } from './plan-commands.js';
import { outputFor, printable } from './render.js';
import type { Output } from './render.js';

// `npx canary-edge <command>`: the operator's side of the admin API (CANARY_EDGE_URL, AP_API_KEY). Tables for people,
// `--json` for scripts (the API's own JSON). Exit codes: 0 done, 1 the edge refused or could not be reached (the
// message says why and what to do), 2 a usage error.

interface Overview {
  platformIds: string[];
  excluded: string[];
  rollout: { percent: number; salt: string };
  paused: boolean;
}
interface Status {
  platformId: string;
  canary: boolean;
  source: string;
}
interface Rollout {
  percent: number;
  salt: string;
  paused: boolean;
  updatedAt: string;
  updatedBy: string;
}
interface Health {
  windowSeconds: number;
  origins: Record<string, { requests: number; errors: number; errorRate: number | null }>;
  judge: (JudgeRecord & { worstPlatforms: (Driver & { metric: string })[] }) | null;
  quarantined: { platformId: string; at: string; reason: string | null }[];
}

const rateText = (rate: number | null): string => (rate === null ? '-' : `${(rate * 100).toFixed(2)}%`);

// The operator plane's own input rules (core/operator/inputs.ts): what the API and the page refuse, the CLI refuses
// before asking, with the same words.
const reasonOption = reasonInput();
const platformOption = platformIdInput();

/** A command argument checked by one of those rules: its value, or a usage error naming the argument. */
function argument<T>(name: string, schema: Parameters<typeof validateInput<T>>[0], value: unknown, usage: string): T {
  const valid = validateInput(schema, value, name);
  if (!valid.ok) throw new UsageError(`${valid.message}\nusage: ${usage}`);
  return valid.value;
}

function routeText(out: Output, canary: boolean): string {
  return canary ? out.yellow('canary') : out.green('primary');
}

function changeText(entry: AuditEntry): string {
  const show = (value: unknown): string => (value === null || value === undefined ? '-' : printable(JSON.stringify(value)));
  return `${show(entry.before)} -> ${show(entry.after)}`;
}

function program(target: () => AdminTarget, out: Output): CliCommand {
  const cli = createProgram('canary-edge', 'Operate the canary: who goes where and why, pins, rollout, kill switch, audit.').option(
    '--json',
    'print the API\'s JSON instead of tables (for scripts)',
  );
  const json = (): boolean => cli.opts<{ json?: boolean }>().json === true;
  const print = (value: unknown, human: () => void): void => {
    if (json()) out.line(JSON.stringify(value, null, 2));
    else human();
  };
  const call = <T>(method: string, path: string, body?: unknown): Promise<T> => callAdmin<T>(target(), method, path, body);

  cli
    .command('status [platformId]')
    .description('where a platform goes and why; without one, the pause state and the rollout')
    .action(async (platformId: string | undefined) => {
      if (platformId !== undefined) {
        const s = await call<Status>('GET', `/v1/admin/platforms/canary/${encodeURIComponent(platformId)}`);
        return print(s, () => out.table(['PLATFORM', 'ROUTE', 'WHY'], [[printable(s.platformId), routeText(out, s.canary), printable(s.source)]]));
      }
      const o = await call<Overview>('GET', '/v1/admin/platforms/canary');
      print(o, () => {
        out.line(`canary routing  ${o.paused ? out.red('PAUSED (everyone on primary)') : out.green('on')}`);
        out.line(`rollout         ${o.rollout.percent}% of the platforms without an explicit choice`);
        out.line(`pinned in       ${o.platformIds.length}`);
        out.line(`excluded        ${o.excluded.length}`);
      });
    });

  cli
    .command('list')
    .description('explicitly pinned and excluded platforms, and the rollout')
    .action(async () => {
      const o = await call<Overview>('GET', '/v1/admin/platforms/canary');
      print(o, () => {
        out.line(`rollout ${o.rollout.percent}%${o.paused ? `  ${out.red('PAUSED')}` : ''}`);
        out.table(['PLATFORM', 'CHOICE'], [
          ...o.platformIds.map((id) => [printable(id), out.yellow('pinned in')]),
          ...o.excluded.map((id) => [printable(id), out.green('excluded')]),
        ]);
      });
    });

  for (const [name, canary] of [['enable', true], ['disable', false]] as const) {
    cli
      .command(`${name} <platformId>`)
      .description(canary ? 'pin a platform into the canary (an explicit choice)' : 'keep a platform out of the canary (an explicit choice)')
      .option('--reason <text>', 'why (recorded in the audit log)')
      .action(async (platformId: string, _options: unknown, command: CliCommand) => {
        const { reason } = validateOptions(command, z.object({ reason: reasonOption }));
        const answer = await call<{ platformId: string; canary: boolean }>('POST', '/v1/admin/platforms/canary', { platformId, canary, reason });
        print(answer, () => out.line(`${platformId} ${canary ? 'pinned into the canary' : 'excluded from the canary'}`));
      });
  }

  cli
    .command('follow <platformId>')
    .description('clear a platform\'s explicit choice: it follows the rollout again')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(async (platformId: string, _options: unknown, command: CliCommand) => {
      const { reason } = validateOptions(command, z.object({ reason: reasonOption }));
      const answer = await call<{ platformId: string; canary: boolean }>('DELETE', `/v1/admin/platforms/canary/${encodeURIComponent(platformId)}`, { reason });
      print(answer, () => out.line(`${platformId} follows the rollout: now ${routeText(out, answer.canary)}`));
    });

  cli
    .command('rollout <percent>')
    .description('route this percentage of the platforms without an explicit choice to the canary')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(async (percentText: string, _options: unknown, command: CliCommand) => {
      const { reason } = validateOptions(command, z.object({ reason: reasonOption }));
      const percent = argument('<percent>', percentInput(), percentFromText(percentText), 'canary-edge rollout <percent> [--reason <text>]');
      const r = await call<Rollout>('PUT', '/v1/admin/canary/rollout', { percent, reason });
      print(r, () => out.line(`rollout set to ${r.percent}%${r.paused ? out.red(' (routing is PAUSED: nobody goes to the canary until resume)') : ''}`));
    });

  for (const [name, paused] of [['pause', true], ['resume', false]] as const) {
    cli
      .command(name)
      .description(paused ? 'kill switch: every request and new job to the primary, from the next request on' : 'undo a pause: the previous cohort returns exactly')
      .option('--reason <text>', 'why (recorded in the audit log)')
      .action(async (_options: unknown, command: CliCommand) => {
        const { reason } = validateOptions(command, z.object({ reason: reasonOption }));
        const answer = await call<{ paused: boolean }>('POST', `/v1/admin/canary/${name}`, { reason });
        print(answer, () => out.line(answer.paused ? out.red('canary routing PAUSED: everyone goes to the primary') : out.green('canary routing resumed')));
      });
  }

  cli
    .command('override <target>')
    .description('mint a tester token that routes requests to canary or primary, whatever the cohort says')
    .option('--platform <platformId>', 'only requests of this platform')
    .option('--ttl <duration>', 'how long it is valid, 1m to 24h (default 1h)')
    .action(async (targetName: string, _options: unknown, command: CliCommand) => {
      if (targetName !== 'canary' && targetName !== 'primary') throw new UsageError('<target> must be canary or primary\nusage: canary-edge override <canary|primary> [--platform <id>] [--ttl 1h]');
      const options = validateOptions(command, z.object({ platform: z.optional(platformOption), ttl: durationSchema.optional() }));
      const ttlSeconds = Math.round((options.ttl ?? 3_600_000) / 1000);
      if (ttlSeconds < 60) throw new UsageError('--ttl: must be at least 1m\nusage: canary-edge override <canary|primary> [--platform <id>] [--ttl 1h]');
      const answer = await call<{ token: string; expiresAt: string }>('POST', '/v1/admin/canary/overrides', {
        target: targetName,
        ttlSeconds,
        ...(options.platform === undefined ? {} : { platformId: options.platform }),
      });
      const base = target().baseUrl;
      print(answer, () => {
        out.line(`override to ${targetName}${options.platform === undefined ? '' : ` for ${options.platform}`}, valid until ${answer.expiresAt}`);
        out.line();
        out.line(answer.token);
        out.line();
        out.line(out.dim('# a request that follows it (the response says x-canary-routed):'));
        out.line(`curl -si ${base}/v1/health -H "x-canary-override: ${answer.token}" | grep -i -e x-canary-routed -e x-ap-version`);
        out.line(out.dim('# a browser that follows it (sets a cookie until the token expires; /__canary/override/clear removes it):'));
        out.line(`${base}/__canary/override?token=${encodeURIComponent(answer.token)}`);
      });
    });

  cli
    .command('revoke-overrides')
    .description('ignore every tester override token minted until now, from the next request on')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(async (_options: unknown, command: CliCommand) => {
      const { reason } = validateOptions(command, z.object({ reason: reasonOption }));
      const answer = await call<{ revokedBefore: string }>('POST', '/v1/admin/canary/overrides/revoke', { reason });
      print(answer, () => out.line(`every override token minted before ${printable(answer.revokedBefore)} is revoked`));
    });

  cli
    .command('audit')
    .description('who changed what, when and why (newest first)')
    .option('--platform <platformId>', 'only entries of this platform')
    .option('--limit <n>', 'at most this many entries, 1 to 500 (default 50)')
    .option('--before <id>', 'entries older than this one (the previous page\'s "next")')
    .action(async (_options: unknown, command: CliCommand) => {
      const o = validateOptions(
        command,
        z.object({
          platform: z.optional(platformOption),
          limit: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).refine((n) => n >= 1 && n <= 500, 'must be 1 to 500').optional(),
          before: z.string().regex(/^\d+$/, 'must be an entry id').optional(),
        }),
      );
      const query = new URLSearchParams();
      if (o.platform !== undefined) query.set('platformId', o.platform);
      if (o.limit !== undefined) query.set('limit', String(o.limit));
      if (o.before !== undefined) query.set('before', o.before);
      const answer = await call<{ entries: AuditEntry[]; next: number | null }>('GET', `/v1/admin/canary/audit${query.size > 0 ? `?${query}` : ''}`);
      print(answer, () => {
        out.table(
          ['ID', 'AT', 'ACTOR', 'ACTION', 'PLATFORM', 'CHANGE', 'REASON'],
          answer.entries.map((e) => [
            String(e.id),
            printable(e.at).replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
            printable(e.actor),
            printable(e.action),
            e.platformId === null ? '-' : printable(e.platformId),
            changeText(e),
            printable(e.reason),
          ]),
        );
        if (answer.next !== null) out.line(out.dim(`more: canary-edge audit --before ${answer.next}`));
      });
    });

  cli
    .command('health')
    .description('requests and errors per origin over the judge\'s window, its verdict per metric with the platforms that drove it, and the quarantine')
    .action(async () => {
      const h = await call<Health>('GET', '/v1/admin/canary/health');
      const verdictText = (verdict: string): string =>
        verdict === 'fail' || verdict === 'paused' || verdict === 'error' ? out.red(verdict) : verdict === 'pass' ? out.green(verdict) : out.yellow(verdict);
      print(h, () => {
        out.line(`last ${h.windowSeconds}s at the edge:`);
        out.table(
          ['ORIGIN', 'REQUESTS', 'ERRORS', 'ERROR RATE'],
          Object.entries(h.origins).map(([name, o]) => [name, String(o.requests), String(o.errors), rateText(o.errorRate)]),
        );
        const { judge } = h;
        if (judge === null) {
          out.line(out.yellow('judge: nothing reported yet (it runs in the primary origin apps; CANARY_GUARD_ENABLED)'));
        } else if (judge.verdict === 'disabled') {
          out.line(out.yellow('judge off (CANARY_GUARD_ENABLED=false)'));
        } else {
          const s = judge.settings;
          out.line(
            `judge every ${s.intervalSeconds}s over ${s.windowSeconds}s: canary vs primary, no platform above ${Math.round(s.maxPlatformShare * 100)}% of a side; ` +
              `a failure from fewer than ${s.minPlatforms} platforms quarantines them, a broader one pauses`,
          );
          const did = judge.action === 'paused' ? out.red(' (it paused canary routing)') : judge.action === 'quarantined' ? out.red(` (it quarantined ${judge.quarantined.map(printable).join(', ')})`) : '';
          out.line(`last verdict: ${verdictText(judge.verdict)} at ${printable(judge.at)}${did}${judge.problem === null ? '' : ` — ${printable(judge.problem)}`}`);
          if (judge.metrics !== null) {
            out.table(
              ['METRIC', 'VERDICT', 'WHY'],
              Object.values(judge.metrics).map((m) => [m.metric, verdictText(m.verdict), printable(m.reason)]),
            );
          }
          if (judge.worstPlatforms.length > 0) {
            out.line('platforms that drove it:');
            out.table(
              ['PLATFORM', 'METRIC', 'BAD', 'OF', 'EXCESS'],
              judge.worstPlatforms.map((d) => [printable(d.platformId), printable(d.metric), String(d.bad), String(d.n), String(d.excess)]),
            );
          }
        }
        out.line(
          h.quarantined.length === 0
            ? 'quarantined: none'
            : `quarantined: ${h.quarantined.map((q) => printable(q.platformId)).join(', ')} (release one: npx canary-edge release <platformId>)`,
        );
      });
    });

  cli
    .command('release <platformId>')
    .description('let a platform the judge quarantined follow the rollout again')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(async (platformId: string, _options: unknown, command: CliCommand) => {
      const { reason } = validateOptions(command, z.object({ reason: reasonOption }));
      const answer = await call<{ platformId: string; canary: boolean }>('POST', '/v1/admin/canary/quarantine/release', { platformId, reason });
      print(answer, () => out.line(`${printable(platformId)} released: it follows the rollout again, now ${routeText(out, answer.canary)}`));
    });

  addPlanCommands(cli, call, print, out);
  return cli;
}

runCli(async (argv) => {
  let target: AdminTarget | null = null;
  // Read lazily: `--help` and usage errors must not need the key.
  const cli = program(() => (target ??= adminTargetFromEnv()), outputFor());
  if (argv.length === 0) throw new UsageError(`a command is required\nusage: canary-edge [--json] <command> (try: canary-edge --help)`);
  await cli.parseAsync(argv, { from: 'user' });
});

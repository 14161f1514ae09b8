import { CliError } from '../cli/index.js';
import { mustRun } from './run-command.js';
import { parseDeploymentStatus, parseUploadedVersionId } from './wrangler-output.js';

// The edge Worker's versions and deployments, through wrangler (which reads CLOUDFLARE_API_TOKEN and
// CLOUDFLARE_ACCOUNT_ID from the environment, so no credential is ever on a command line). Every deploy passes --yes:
// these run unattended, and wrangler must never wait on a prompt.

const CREDENTIALS = 'check CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID';

/** What to upload. */
export interface UploadOptions {
  env: string;
  tag?: string;
  message?: string;
}

/** Uploads the edge as a new version that serves no traffic yet; resolves with its version id. */
export async function uploadVersion(options: UploadOptions): Promise<string> {
  const args = ['versions', 'upload', '--env', options.env];
  if (options.tag !== undefined) args.push('--tag', options.tag);
  if (options.message !== undefined) args.push('--message', options.message);
  // Our stdout is the version id a workflow captures, so wrangler's own output goes to stderr.
  const stdout = await mustRun('wrangler', args, `no version was uploaded and edge traffic is unchanged; read the build errors above and ${CREDENTIALS}`, { echoStdout: 'stderr' });
  return parseUploadedVersionId(stdout);
}

/** The version serving all of the edge's traffic; refuses when traffic is split (a rollout is under way or half done). */
export async function readStableVersion(env: string): Promise<string> {
  const stdout = await mustRun(
    'wrangler',
    ['deployments', 'status', '--json', '--env', env],
    `cannot tell which version serves the edge (--env ${env}), so no traffic was moved; ${CREDENTIALS}. A Worker never deployed has no deployment: deploy it once by hand (npm run deploy -- --env ${env})`,
  );
  const { versions } = parseDeploymentStatus(stdout);
  const [only] = versions;
  if (versions.length !== 1 || only === undefined || only.percentage !== 100) {
    const split = versions.map((v) => `${v.version_id} (${v.percentage}%)`).join(' and ');
    throw new CliError(`the edge (--env ${env}) is split between ${split}: another rollout is under way or was left half done, so no traffic was moved. Finish it first with npm run edge:promote -- --env ${env} --new <id> or npm run edge:rollback -- --env ${env} --to <id>`);
  }
  return only.version_id;
}

/** What to split. */
export interface SplitOptions {
  env: string;
  newVersion: string;
  oldVersion: string;
  /** Share of traffic for `newVersion`, 1-99; `oldVersion` keeps the rest. */
  percent: number;
  message: string;
}

/** Deploys `newVersion` at `percent`% beside `oldVersion`. */
export async function deploySplit(options: SplitOptions): Promise<void> {
  const { env, newVersion, oldVersion, percent } = options;
  await mustRun(
    'wrangler',
    ['versions', 'deploy', `${newVersion}@${percent}%`, `${oldVersion}@${100 - percent}%`, '--yes', '--env', env, '--message', options.message],
    `the split was not deployed; ${oldVersion} should still serve all edge traffic (check with wrangler deployments status --env ${env})`,
    { echoStdout: 'stderr' },
  );
}

/** Deploys `version` to 100% of the edge's traffic. */
export async function promoteVersion(env: string, version: string, message: string): Promise<void> {
  await mustRun(
    'wrangler',
    ['versions', 'deploy', `${version}@100%`, '--yes', '--env', env, '--message', message],
    `${version} was not promoted and edge traffic is as it was (check with wrangler deployments status --env ${env}); rerun, or roll back with npm run edge:rollback`,
    { echoStdout: 'stdout' },
  );
}

/** Rolls the edge back: `version` serves 100% of its traffic again. */
export async function rollbackToVersion(env: string, version: string, message: string): Promise<void> {
  await mustRun(
    'wrangler',
    ['rollback', version, '--message', message, '--yes', '--env', env],
    `the edge was NOT rolled back to ${version}; ${CREDENTIALS}, then rerun or use the dashboard (Workers > Deployments > Rollback)`,
    { echoStdout: 'stdout' },
  );
}

/** Applies wrangler.toml's routes for `env`, which versions upload and versions deploy leave untouched. */
export async function applyTriggers(env: string): Promise<void> {
  await mustRun(
    'wrangler',
    ['triggers', 'deploy', '--env', env],
    `the routes of wrangler.toml [env.${env}] were not applied; the promoted version keeps serving on the routes it had. ${CREDENTIALS} and rerun`,
    { echoStdout: 'stdout' },
  );
}

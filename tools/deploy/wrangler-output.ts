import { z } from 'zod';
import { CliError } from '../cli/index.js';
import { VERSION_ID_PATTERN } from './edge-flags.js';

// What these parsers read is wrangler 4's own output (checked against wrangler 4.86.0, wrangler-dist/cli.js):
// - `wrangler versions upload` logs `Worker Version ID: <uuid>` once the version is uploaded (src/versions/upload.ts);
// - `wrangler deployments status --json` prints the latest deployment exactly as the API returns it, an ApiDeployment
//   `{ id, source, strategy, author_email, created_on, annotations?, versions: [{ version_id, percentage }] }`
//   (src/versions/deployments/status.ts, src/versions/types.ts), and no banner.

const UPLOADED_VERSION_LINE = /^Worker Version ID: (\S+)\s*$/m;

/** The version id `wrangler versions upload` printed; a CliError (exit 1) when it printed none. */
export function parseUploadedVersionId(stdout: string): string {
  const id = UPLOADED_VERSION_LINE.exec(stdout)?.[1];
  if (id === undefined || !VERSION_ID_PATTERN.test(id)) {
    throw new CliError(`wrangler versions upload succeeded but printed no "Worker Version ID: <uuid>" line${id === undefined ? '' : ` ("${id.slice(0, 60)}" is not a version id)`}, so the new version is unknown and nothing was deployed. Find it with wrangler versions list --env <env>`);
  }
  return id;
}

const deploymentSchema = z.object({
  id: z.string(),
  created_on: z.string().optional(),
  versions: z.array(z.object({
    version_id: z.string().regex(VERSION_ID_PATTERN),
    percentage: z.number().min(0).max(100),
  })).min(1),
});

/** The traffic split of a Worker's current deployment. */
export type Deployment = z.infer<typeof deploymentSchema>;

/** Parses `wrangler deployments status --json`; a CliError (exit 1) when it is not a deployment. */
export function parseDeploymentStatus(stdout: string): Deployment {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new CliError(`wrangler deployments status --json printed no JSON ("${stdout.trim().slice(0, 80)}"), so the version serving traffic is unknown; nothing was deployed`);
  }
  const parsed = deploymentSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`wrangler deployments status --json printed no deployment (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}), so the version serving traffic is unknown; nothing was deployed`);
  }
  return parsed.data;
}

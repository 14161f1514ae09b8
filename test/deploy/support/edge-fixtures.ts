/** The version the edge tests upload and promote. */
export const NEW_VERSION = '0f6b2c4e-8a1d-4a57-9a3e-1b2c3d4e5f60';
/** The version serving the edge before the rollout. */
export const OLD_VERSION = '7c2a9d10-3b4e-4f5a-8c6d-9e0f1a2b3c4d';
/** A token-shaped value that must never reach a command line or any output. */
export const API_TOKEN = 'cf-test-token-0123456789abcdefghijklmnopqrstuv';
/** What the edge CLIs get in the environment: wrangler and the analytics query read these. */
export const CLOUDFLARE_ENV = { CLOUDFLARE_API_TOKEN: API_TOKEN, CLOUDFLARE_ACCOUNT_ID: '023e105f4ecef8ad9ca31a8372d0c353' };

/** What wrangler 4.86 prints for `wrangler versions upload --env production` (src/versions/upload.ts). */
export const UPLOAD_OUTPUT = `
 ⛅️ wrangler 4.86.0
───────────────────
Total Upload: 676.12 KiB / gzip: 162.30 KiB
Worker Startup Time: 14 ms
Your Worker has access to the following bindings:
Binding                                                         Resource
env.AP_PRIMARY_APP_URL ("https://primary.internal.example.com")  Environment Variable

Uploaded canary-edge-production (4.12 sec)
Worker Version ID: ${NEW_VERSION}
`;

/** `wrangler deployments status --json`: the latest deployment as the API returns it (src/versions/types.ts ApiDeployment). */
export function deploymentStatus(versions: ReadonlyArray<readonly [string, number]>): string {
  return `${JSON.stringify({
    id: 'a1b2c3d4-0000-4000-8000-000000000001',
    source: 'wrangler',
    strategy: 'percentage',
    author_email: 'ci@example.com',
    annotations: { 'workers/triggered_by': 'deployment' },
    created_on: '2026-05-03T09:41:12.345678Z',
    versions: versions.map(([version_id, percentage]) => ({ version_id, percentage })),
  }, null, 2)}\n`;
}

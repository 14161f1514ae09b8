import type { DemoPlatform } from './demo-data.js';
import type { LocalService } from './services/local-services.js';
import type { StartConfig } from './start-config.js';

function redactUrl(raw: string): string {
  const url = new URL(raw);
  if (url.password !== '') url.password = '***';
  return url.toString();
}

/** The text `npm start` prints once everything answers: what runs where, demo platforms, and what to try. */
export function renderBanner(config: StartConfig, demos: DemoPlatform[], services: readonly LocalService[]): string {
  const edge = `http://127.0.0.1:${config.edgePort}`;
  const primary = demos.find((d) => !d.canary);
  const lines = [
    '',
    '================================================================================',
    ' canary-edge is up. Send every request to the edge.',
    '================================================================================',
    ` edge (Worker in workerd)     ${edge}`,
    ` primary app  ${config.primaryVersion.padEnd(14)}  http://127.0.0.1:${config.primaryPort}   worker polls workerJobs`,
    ` canary app   ${config.canaryVersion.padEnd(14)}  http://127.0.0.1:${config.canaryPort}   worker polls canaryWorkerJobs`,
    ` Upstash REST (local)         http://127.0.0.1:${config.upstashPort}  -> ${redactUrl(config.redisUrl)}`,
    ` Neon HTTP (local)            http://127.0.0.1:${config.neonPort}/sql -> ${redactUrl(config.postgresUrl)}`,
    ...services.map((s) => ` ${s.name.padEnd(28)} ${redactUrl(s.url)}  ${s.origin}`),
    '',
    config.generatedSecrets
      ? ' Secrets were generated for this run (set AP_API_KEY and AP_JWT_SECRET to choose your own):'
      : ' Secrets come from your environment:',
    `   AP_API_KEY=${config.apiKey}`,
    `   AP_JWT_SECRET=${config.jwtSecret}`,
    '',
    ' Demo platforms:',
    ...demos.flatMap((d) => [
      `   ${d.platformId.padEnd(14)} canary=${String(d.canary).padEnd(5)}  flow ${d.flowId}`,
      `     JWT=${d.jwt}`,
    ]),
    '',
  ];
  if (primary !== undefined) {
    lines.push(
      ' Try it:',
      `   export JWT=${primary.jwt}`,
      `   # who serves ${primary.platformId}? (x-ap-version: ${config.primaryVersion})`,
      `   curl -si ${edge}/v1/health -H "Authorization: Bearer $JWT" | grep -i x-ap-version`,
      `   # flip ${primary.platformId} into the canary cohort`,
      `   curl -s -X POST ${edge}/v1/admin/platforms/canary -H "api-key: ${config.apiKey}" \\`,
      `        -H "content-type: application/json" -d '{"platformId":"${primary.platformId}","canary":true}'`,
      `   # ask again: now x-ap-version: ${config.canaryVersion}`,
      `   curl -si ${edge}/v1/health -H "Authorization: Bearer $JWT" | grep -i x-ap-version`,
      '   # run its flow through the edge and wait for the result (workerVersion tells which fleet ran it)',
      `   curl -s -X POST ${edge}/v1/webhooks/${primary.flowId}/sync -H "content-type: application/json" -d '{"name":"ada"}'`,
      `   # list the cohort`,
      `   curl -s ${edge}/v1/admin/platforms/canary -H "api-key: ${config.apiKey}"`,
      '   # skew protection: the demo app names the build that served it (x-canary-build); its assets stay on that build',
      `   curl -si ${edge}/ -H "accept: text/html" | grep -i -e x-canary-build -e ap_canary_build`,
      `   # in a browser: ${edge}/ shows a banner asking for a reload once an API answer comes from another build`,
      '',
      ' Operate it:',
      `   admin page   ${edge}/__canary/   (sign in with AP_API_KEY)`,
      `   CLI          export CANARY_EDGE_URL=${edge} AP_API_KEY=${config.apiKey}`,
      `                npx canary-edge status ${primary.platformId}     # where does it go, and why`,
      '                npx canary-edge pause --reason "error spike"    # kill switch; npx canary-edge resume',
      '                npx canary-edge rollout 5                       # 5% of the platforms without a choice',
      '                npx canary-edge override canary --ttl 1h        # try the canary without moving anyone',
      '                npx canary-edge health                          # the judge: verdict per metric, quarantine',
      '                npx canary-edge plan start --steps 5,25,100 --bake 2m   # a rollout that advances itself',
      '                npx canary-edge audit                           # who changed what',
      '',
    );
  }
  lines.push(' Ctrl-C stops everything.', '================================================================================', '');
  return lines.join('\n');
}

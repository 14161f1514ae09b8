import { z } from 'zod';
import { CliError, describeError, UsageError } from '../cli/index.js';
import type { VersionTraffic } from './edge-verdict.js';

/** Cloudflare's API; CLOUDFLARE_API_BASE_URL overrides it (wrangler honours the same variable). */
export const DEFAULT_API_BASE_URL = 'https://api.cloudflare.com/client/v4';

const REQUEST_TIMEOUT_MS = 30_000;

/** Where and as whom the GraphQL Analytics API is asked. */
export interface AnalyticsAccess {
  endpoint: string;
  apiToken: string;
  accountId: string;
}

/** Reads CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_BASE_URL; a UsageError naming what is missing. */
export function analyticsAccessFromEnv(env: NodeJS.ProcessEnv = process.env): AnalyticsAccess {
  const apiToken = env.CLOUDFLARE_API_TOKEN?.trim() ?? '';
  const accountId = env.CLOUDFLARE_ACCOUNT_ID?.trim() ?? '';
  const missing = [apiToken === '' ? 'CLOUDFLARE_API_TOKEN' : '', accountId === '' ? 'CLOUDFLARE_ACCOUNT_ID' : ''].filter((name) => name !== '');
  if (missing.length > 0) throw new UsageError(`${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set; the check reads Workers analytics with them (a token with Account Analytics read)`);
  const base = env.CLOUDFLARE_API_BASE_URL?.trim() || DEFAULT_API_BASE_URL;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`CLOUDFLARE_API_BASE_URL "${base}" is not a URL; unset it to use ${DEFAULT_API_BASE_URL}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`CLOUDFLARE_API_BASE_URL "${base}" is not an http(s) URL`);
  return { endpoint: `${base.replace(/\/+$/, '')}/graphql`, apiToken, accountId };
}

// Grouping follows the selected dimensions, so selecting only scriptVersion sums every invocation of a version into
// one row.
/** The GraphQL Analytics query: requests and errors of each version of one Worker over a window. */
export const VERSION_TRAFFIC_QUERY = `query EdgeVersionTraffic($accountTag: string!, $scriptName: string!, $since: Time!, $until: Time!) {
  viewer {
    accounts(filter: { accountTag: $accountTag }) {
      workersInvocationsAdaptive(
        limit: 1000
        filter: { scriptName: $scriptName, datetime_geq: $since, datetime_leq: $until }
      ) {
        sum { requests errors }
        dimensions { scriptVersion }
      }
    }
  }
}`;

const count = z.number().nonnegative();
const answerSchema = z.object({
  data: z.object({
    viewer: z.object({
      accounts: z.array(z.object({
        workersInvocationsAdaptive: z.array(z.object({
          sum: z.object({ requests: count, errors: count }),
          dimensions: z.object({ scriptVersion: z.string() }),
        })),
      })),
    }),
  }).nullish(),
  errors: z.array(z.object({ message: z.string() })).nullish(),
});

/** Which Worker, over which window. */
export interface TrafficQuery {
  worker: string;
  since: Date;
  until: Date;
}

function unreadable(reason: string): CliError {
  return new CliError(`cannot read the edge's analytics: ${reason}. No verdict: missing data is never "healthy"`);
}

/** Requests and errors of every version of `query.worker` that ran in the window, by version id. */
export async function readTrafficByVersion(access: AnalyticsAccess, query: TrafficQuery): Promise<Map<string, VersionTraffic>> {
  let response: Response;
  try {
    response = await fetch(access.endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${access.apiToken}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        query: VERSION_TRAFFIC_QUERY,
        variables: { accountTag: access.accountId, scriptName: query.worker, since: query.since.toISOString(), until: query.until.toISOString() },
      }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw unreadable(`${access.endpoint} did not answer (${describeError(error)})`);
  }
  const text = await response.text().catch(() => '');
  // Whatever the server sent back is shown, never the token, even if an error page echoed it.
  const shown = text.replaceAll(access.apiToken, '***').replace(/\s+/g, ' ').slice(0, 200);
  if (!response.ok) throw unreadable(`${access.endpoint} answered HTTP ${response.status} (${shown})`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw unreadable(`${access.endpoint} answered something that is not JSON`);
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) throw unreadable(`the answer is not workersInvocationsAdaptive rows (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? 'invalid'})`);
  const { data, errors } = parsed.data;
  if (errors && errors.length > 0) throw unreadable(`GraphQL errors: ${errors.map((e) => e.message).join('; ').replaceAll(access.apiToken, '***')}`);
  const [account] = data?.viewer.accounts ?? [];
  if (account === undefined) throw unreadable(`account ${access.accountId} is not visible to this token (no account in the answer)`);
  const traffic = new Map<string, VersionTraffic>();
  for (const row of account.workersInvocationsAdaptive) {
    const seen = traffic.get(row.dimensions.scriptVersion) ?? { requests: 0, errors: 0 };
    traffic.set(row.dimensions.scriptVersion, { requests: seen.requests + row.sum.requests, errors: seen.errors + row.sum.errors });
  }
  return traffic;
}

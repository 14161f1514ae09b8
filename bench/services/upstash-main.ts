// Child process: the local Upstash REST endpoint (over real Redis), so its JSON and HTTP work does not compete with the
// load generator's event loop.
import { startUpstashLocal } from '../../dev/upstash-local/server.js';
import { childConfig, serveParent } from '../support/child-rpc.js';

export interface UpstashChildConfig {
  redisUrl: string;
  token: string;
}

export interface UpstashInfo {
  url: string;
}

/** Upstash endpoint counters since the last `reset`. */
export interface UpstashCounts {
  requests: number;
  commands: number;
  byCommand: Record<string, number>;
  /** Script calls by SHA-1 (EVALSHA, and EVAL by the SHA of its source). */
  byScript: Record<string, number>;
}

const config = childConfig<UpstashChildConfig>();
const upstash = await startUpstashLocal({ redisUrl: config.redisUrl, token: config.token });

serveParent(
  { url: upstash.url } satisfies UpstashInfo,
  {
    counts: (): UpstashCounts => ({
      requests: upstash.stats.requests,
      commands: upstash.stats.commands,
      byCommand: { ...upstash.stats.byCommand },
      byScript: { ...upstash.stats.byScript },
    }),
    reset: () => {
      upstash.stats.reset();
      return true;
    },
  },
  () => upstash.close(),
);

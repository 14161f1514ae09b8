// Child process: the primary and canary loopback origins (the repo's echo origin), so serving them does not compete
// with the load generator's event loop.
import { startEchoOrigin } from '../../testkit/echo-origin.js';
import type { EchoOrigin } from '../../testkit/echo-origin.js';
import { serveParent } from '../support/child-rpc.js';

/** What the origins child reports when ready. */
export interface OriginsInfo {
  primaryUrl: string;
  canaryUrl: string;
}

/** Requests each origin served since the last `reset`. */
export interface OriginCounts {
  primary: number;
  canary: number;
}

const [primary, canary] = await Promise.all([startEchoOrigin('primary'), startEchoOrigin('canary')]);
const served: OriginCounts = { primary: 0, canary: 0 };

// The echo origin records every request; a bench sends millions, so the records are folded into counters instead of
// being kept.
function fold(origin: EchoOrigin, key: keyof OriginCounts): void {
  served[key] += origin.requests.length;
  origin.requests.length = 0;
}

function counts(): OriginCounts {
  fold(primary, 'primary');
  fold(canary, 'canary');
  return { ...served };
}

const folding = setInterval(counts, 1_000);

serveParent(
  { primaryUrl: primary.url, canaryUrl: canary.url } satisfies OriginsInfo,
  {
    counts,
    reset: () => {
      counts();
      served.primary = 0;
      served.canary = 0;
      return true;
    },
  },
  async () => {
    clearInterval(folding);
    await Promise.allSettled([primary.close(), canary.close()]);
  },
);

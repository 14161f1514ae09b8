import type { Redis } from '@upstash/redis/cloudflare';
import { isNoScriptError, scriptSha, storeCall } from '../../core/membership/index.js';
import type { LuaScript, ScriptRunner } from '../../core/membership/index.js';

/** Runs membership scripts over Upstash REST: EVALSHA, falling back to EVAL once per Redis that lacks the script. */
export function createUpstashScriptRunner(redis: Redis): ScriptRunner {
  return {
    run: (script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> => storeCall('redis', async () => {
      const sha = await scriptSha(script);
      try {
        return await redis.evalsha(sha, [...keys], [...args]);
      } catch (error) {
        if (!isNoScriptError(error)) throw error;
        return await redis.eval(script.source, [...keys], [...args]);
      }
    }),
  };
}

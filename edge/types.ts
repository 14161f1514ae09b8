import type { PrincipalVerifier } from '../core/auth/principal-jwt.js';
import type { CanaryControl, MembershipStore, ScriptRunner } from '../core/membership/index.js';
import type { EdgeConfig } from './config.js';
import type { HealthCounter } from './health/health-counter.js';
import type { RequestLogFields } from './middleware/request-log.js';

/** Services built from the bindings, once per isolate. */
export interface EdgeServices {
  config: EdgeConfig;
  membership: MembershipStore;
  /** The operator plane (its Postgres calls get the longer ADMIN_STORE_TIMEOUT_MS). */
  control: CanaryControl;
  /** Redis (Upstash) for the health counts; null when no cache is configured. */
  redis: ScriptRunner | null;
  /** This isolate's counts of responses and errors per origin. */
  health: HealthCounter;
  /** Principal JWTs under AP_JWT_SECRET, valid ones remembered per isolate (bounded). */
  verifyJwt: PrincipalVerifier;
  /** `Set-Cookie` for a canary platform, its signed value reused for a minute. */
  canaryCookie(platformId: string, nowSeconds: number): Promise<string | null>;
  /** Logs a store failure (credentials removed); the caller decides what the client is told. */
  reportStoreError(stage: string, error: unknown): void;
}

/** The Hono environment of the edge Worker. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    services: EdgeServices;
    log: RequestLogFields;
    /** The request URL, parsed once (by the first middleware). */
    url: URL;
    /** Its path as origins route it (`routingPath`): every path decision of the edge uses this. */
    routingPath: string;
    /** Who an admin request acts as (audit log): `x-canary-actor`, or `api-key`. */
    actor: string;
  };
};

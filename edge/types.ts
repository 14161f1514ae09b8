import type { PrincipalVerifier } from '../core/auth/principal-jwt.js';
import type { JudgeWindow } from '../core/health/judge-window.js';
import type { SignalCell } from '../core/judge/signal-batch.js';
import type { LookupOptions, MembershipAnswer, PlatformRef } from '../core/membership/index.js';
import type { BoundedCache } from '../core/cache/bounded-cache.js';
import type { AdminSessionStore } from '../core/operator/admin-sessions.js';
import type { OperatorCommands } from '../core/operator/operator-commands.js';
import type { EdgeConfig } from './config.js';
import type { HealthCounter } from './health/health-counter.js';
import type { RequestLogFields } from './middleware/request-log.js';

/** The membership lookup the routing path asks (MembershipStore, or a table of answers in unit tests). */
export interface MembershipLookup {
  lookup(ref: PlatformRef, options?: LookupOptions): Promise<MembershipAnswer>;
}

/** Where the edge keeps the judge's request signals (Redis through Upstash). */
export interface HealthStore {
  /** Adds a batch of signals (one round trip). */
  record(batch: readonly SignalCell[]): Promise<void>;
  /** The minute totals over the judge's window, with its last record. */
  readWindow(nowMs: number): Promise<JudgeWindow>;
}

/** Sends a request to an origin (the runtime's fetch; a stand-in in unit tests). */
export type OriginFetch = (url: URL, init: RequestInit) => Promise<Response>;

/**
 * What the edge's routes run on, built from the bindings once per isolate (services.ts), or injected by a test through
 * `createApp({ services })`: every rule of the edge can then be driven with `app.request` in milliseconds.
 */
export interface EdgeServices {
  config: EdgeConfig;
  membership: MembershipLookup;
  /** The operator plane's commands (admin API and page); its Postgres calls get ADMIN_STORE_TIMEOUT_MS. */
  operator: OperatorCommands;
  /** Admin page sessions (server-side, so signing out ends one for real). */
  sessions: AdminSessionStore;
  /** Clients this isolate refuses admin authentication for, until when (epoch ms): over their failure budget. */
  adminAuthBlocks: BoundedCache<number>;
  /** Null when no cache is configured (no health counts then). */
  health: HealthStore | null;
  /** This isolate's counts of responses and errors per origin, flushed to `health` in batches. */
  healthCounter: HealthCounter;
  fetchOrigin: OriginFetch;
  /** Principal JWTs under AP_JWT_SECRET, valid ones remembered per isolate (bounded). */
  verifyJwt: PrincipalVerifier;
  /** `Set-Cookie` for a canary platform, its signed value reused for a minute. */
  canaryCookie(platformId: string, nowSeconds: number): Promise<string | null>;
  /** Logs a store failure (credentials removed); the caller decides what the client is told. */
  reportStoreError(stage: string, error: unknown): void;
}

/** Builds (or returns the already built) services for an isolate's bindings. */
export type ServicesFactory = (env: Env) => EdgeServices;

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

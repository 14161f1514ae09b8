import type { Hono } from 'hono';
import { cachedPrincipalVerifier } from '../../../core/auth/principal-jwt.js';
import { BoundedCache } from '../../../core/cache/bounded-cache.js';
import type { AdminSessionStore } from '../../../core/operator/admin-sessions.js';
import { sha256Hex } from '../../../core/crypto/web-crypto.js';
import type { JudgeWindow } from '../../../core/health/judge-window.js';
import type { SignalCell } from '../../../core/judge/signal-batch.js';
import type { MembershipAnswer, MembershipSource, PlatformRef } from '../../../core/membership/index.js';
import { OperatorCommands } from '../../../core/operator/operator-commands.js';
import type { ControlPort } from '../../../core/operator/operator-commands.js';
import { createApp } from '../../../edge/app.js';
import { parseConfig } from '../../../edge/config.js';
import { HealthCounter } from '../../../edge/health/health-counter.js';
import { cachedCanaryCookieSigner } from '../../../edge/resolve/canary-cookie.js';
import type { AppEnv, EdgeServices, MembershipLookup } from '../../../edge/types.js';

// The edge over in-memory ports, for `app.request` specs: every rule of the routing path runs as in workerd, with the
// stores and origins replaced by tables the test controls. (The real stores are tested in core/ and edge-integration/,
// the real origins in edge-integration/ and origin/.)

export const FAKE_PRIMARY_URL = 'http://primary.test';
export const FAKE_CANARY_URL = 'http://canary.test';
export const FAKE_API_KEY = 'fake-admin-api-key-0123456789abcdef';
export const FAKE_JWT_SECRET = 'fake-jwt-secret-0123456789abcdef';

/** What the cohort answers for a platform: its effective membership and why (the rule itself is tested in core/). */
export interface FakeMembership {
  canary: boolean;
  source: MembershipSource;
  /** The explicit choice behind it (default: `in`/`out` for an explicit source, none otherwise). */
  explicit?: 'in' | 'out' | null;
  /** The judge quarantined it at this instant (epoch ms): its skew-protection pins issued before are cut. */
  pinCutoffMs?: number;
}

/** A request an origin received from the edge. */
export interface ForwardedRequest {
  origin: 'primary' | 'canary';
  method: string;
  url: string;
  headers: Headers;
}

/** How an origin behaves: answer (with this status), fail to connect, or answer as Cloudflare does when it never reached it. */
export type OriginBehaviour = { kind: 'up'; status?: number; setCookies?: string[]; headers?: Record<string, string> } | { kind: 'down' };

export interface FakeEdge {
  app: Hono<AppEnv>;
  env: Env;
  services: EdgeServices;
  /** Platform id -> what the cohort answers; a platform absent here is unknown to the stores. */
  platforms: Map<string, FakeMembership>;
  /** Flow id -> platform id. */
  flows: Map<string, string>;
  /** sha256(api key) -> platform id. */
  apiKeys: Map<string, string>;
  /** Both stores down: every lookup fails open (authority none). */
  storesDown: boolean;
  /** Override tokens minted at or before this instant (epoch ms) are revoked. */
  overridesRevokedBeforeMs: number;
  /** The unknown-id budget (Workers Rate Limiting) admits this client. */
  limiterAdmits: boolean;
  /** The failed-admin-authentication budget admits another failure. */
  adminAuthAdmits: boolean;
  origins: Record<'primary' | 'canary', OriginBehaviour>;
  forwarded: ForwardedRequest[];
  /** Every lookup the routing path made. */
  lookups: PlatformRef[];
  /** Signal batches the isolate flushed (one cell per minute, family and side). */
  recorded: SignalCell[];
  /** Log lines of the edge (JSON). */
  logs: Record<string, unknown>[];
  /** Sends a request through the edge and waits for its background work (counts, refreshes). */
  request(path: string, init?: RequestInit): Promise<Response>;
  addApiKey(key: string, platformId: string): Promise<void>;
}

function answer(platformId: string | null, membership: FakeMembership | undefined, authority: MembershipAnswer['authority'], revokedBeforeMs: number | null): MembershipAnswer {
  const explicit = membership?.explicit ?? (membership?.source === 'explicit' ? (membership.canary ? 'in' : 'out') : null);
  return {
    platformId,
    canary: membership?.canary ?? false,
    source: membership?.source ?? 'default',
    explicit,
    overridesRevokedBeforeMs: revokedBeforeMs,
    pinCutoffMs: membership?.pinCutoffMs ?? null,
    authority,
    trace: { cache: authority === 'cache' ? 'hit' : 'error', database: authority === 'none' ? 'error' : 'none', waits: 0, refresh: false },
  };
}

const UNUSED_CONTROL: ControlPort = new Proxy({} as ControlPort, {
  get: () => () => Promise.reject(new Error('this fake edge has no operator plane: use the workerd tests for it')),
});

/** Admin page sessions in memory. */
export function memorySessions(): AdminSessionStore & { live: Set<string> } {
  const live = new Set<string>();
  return {
    live,
    create: async (id) => void live.add(id),
    isLive: async (id) => live.has(id),
    end: async (id) => void live.delete(id),
    endAll: async () => {
      const n = live.size;
      live.clear();
      return n;
    },
  };
}

/** An edge whose stores and origins are tables in memory. */
export function fakeEdge(
  options: { canaryRouting?: boolean; control?: ControlPort; sessions?: AdminSessionStore; bindings?: Partial<Record<string, string>> } = {},
): FakeEdge {
  const platforms = new Map<string, FakeMembership>();
  const flows = new Map<string, string>();
  const apiKeys = new Map<string, string>();
  const forwarded: ForwardedRequest[] = [];
  const lookups: PlatformRef[] = [];
  const recorded: SignalCell[] = [];
  const logs: Record<string, unknown>[] = [];
  const state = { storesDown: false, limiterAdmits: true, revokedBeforeMs: 0, adminAuthAdmits: true };
  const adminAuthSpent = new Map<string, number>();
  const origins: FakeEdge['origins'] = { primary: { kind: 'up' }, canary: { kind: 'up' } };

  const membership: MembershipLookup = {
    async lookup(ref, lookupOptions = {}) {
      lookups.push(ref);
      if (state.storesDown) return answer(ref.kind === 'platform' ? ref.platformId : null, undefined, 'none', null);
      if (ref.kind === 'none') return answer(null, undefined, 'cache', state.revokedBeforeMs);
      if (ref.kind === 'platform') return answer(ref.platformId, platforms.get(ref.platformId), 'cache', state.revokedBeforeMs);
      const platformId = ref.kind === 'flow' ? flows.get(ref.flowId) : apiKeys.get(ref.hashedKey);
      if (platformId === undefined) {
        // An id the cache does not know costs a database read, within the client's budget; a known unknown carries no state.
        if (lookupOptions.admitResolverFill !== undefined && !(await lookupOptions.admitResolverFill())) return answer(null, undefined, 'refused', null);
        return answer(null, undefined, 'database', null);
      }
      return answer(platformId, platforms.get(platformId), 'cache', state.revokedBeforeMs);
    },
  };

  const bindings = {
    AP_PRIMARY_APP_URL: FAKE_PRIMARY_URL,
    AP_CANARY_APP_URL: options.canaryRouting === false ? '' : FAKE_CANARY_URL,
    AP_API_KEY: FAKE_API_KEY,
    AP_JWT_SECRET: FAKE_JWT_SECRET,
    UPSTASH_REDIS_REST_URL: 'http://upstash.test',
    UPSTASH_REDIS_REST_TOKEN: 'token',
    DATABASE_URL: 'postgres://postgres@neon.test/none',
    ADMIN_HOSTNAME: '',
    LOCAL_DEVELOPMENT: '',
    ...options.bindings,
  };
  // Built on the first request, as the real services are: invalid bindings surface as the edge's own error answer.
  let built: EdgeServices | undefined;
  const build = (): EdgeServices => (built ??= buildServices());
  const buildServices = (): EdgeServices => {
    const config = parseConfig(bindings);
    return {
      config,
      membership,
      operator: new OperatorCommands({ control: options.control ?? UNUSED_CONTROL, onStoreError: () => undefined }),
      sessions: options.sessions ?? memorySessions(),
      adminAuthBlocks: new BoundedCache<number>(100),
      health: {
        record: async (batch) => void recorded.push(...batch),
        readWindow: async (): Promise<JudgeWindow> => ({
          windowSeconds: 300,
          minutes: [],
          total: { primary: { requests: 0, errors: 0 }, canary: { requests: 0, errors: 0 } },
          record: null,
        }),
      },
      healthCounter: new HealthCounter({ flushIntervalMs: 0 }),
      async fetchOrigin(url, init) {
        const origin = url.origin === FAKE_CANARY_URL ? 'canary' : 'primary';
        const behaviour = origins[origin];
        forwarded.push({ origin, method: init.method ?? 'GET', url: url.toString(), headers: new Headers(init.headers) });
        if (behaviour.kind === 'down') throw new TypeError(`fetch failed: ${origin} is down`);
        const headers = new Headers({ 'x-origin': origin, 'content-type': 'application/json', ...behaviour.headers });
        for (const cookie of behaviour.setCookies ?? []) headers.append('set-cookie', cookie);
        return new Response(behaviour.status === 204 ? null : JSON.stringify({ origin }), { status: behaviour.status ?? 200, headers });
      },
      verifyJwt: cachedPrincipalVerifier(config.jwtSecret),
      canaryCookie: cachedCanaryCookieSigner(config.jwtSecret),
      reportStoreError: () => undefined,
    };
  };

  const env = {
    ...bindings,
    UNKNOWN_ID_LIMITER: { limit: () => Promise.resolve({ success: state.limiterAdmits }) },
    // wrangler.toml's budget: 10 failures per client per period (the period never ends within a test).
    ADMIN_AUTH_LIMITER: {
      limit: ({ key }: { key: string }) => {
        const spent = (adminAuthSpent.get(key) ?? 0) + 1;
        adminAuthSpent.set(key, spent);
        return Promise.resolve({ success: state.adminAuthAdmits && spent <= 10 });
      },
    },
  } as unknown as Env;
  const app = createApp({ services: build, log: { sink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) } });

  return {
    app,
    env,
    get services() {
      return build();
    },
    platforms,
    flows,
    apiKeys,
    get storesDown() {
      return state.storesDown;
    },
    set storesDown(value: boolean) {
      state.storesDown = value;
    },
    get overridesRevokedBeforeMs() {
      return state.revokedBeforeMs;
    },
    set overridesRevokedBeforeMs(value: number) {
      state.revokedBeforeMs = value;
    },
    get adminAuthAdmits() {
      return state.adminAuthAdmits;
    },
    set adminAuthAdmits(value: boolean) {
      state.adminAuthAdmits = value;
    },
    get limiterAdmits() {
      return state.limiterAdmits;
    },
    set limiterAdmits(value: boolean) {
      state.limiterAdmits = value;
    },
    origins,
    forwarded,
    lookups,
    recorded,
    logs,
    async request(path, init = {}) {
      const tasks: Promise<unknown>[] = [];
      const ctx = { waitUntil: (task: Promise<unknown>) => void tasks.push(task), passThroughOnException: () => undefined, props: {} };
      const res = await app.request(`https://edge.test${path}`, init, env, ctx as unknown as ExecutionContext);
      await Promise.all(tasks);
      return res;
    },
    async addApiKey(key, platformId) {
      apiKeys.set(await sha256Hex(key), platformId);
    },
  };
}

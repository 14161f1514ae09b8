/** SQL of the membership core; plain Postgres, valid for Neon HTTP and node-postgres alike. */

/**
 * The explicit-choice rule, in one place (every query that needs a platform's choice uses this expression, and the
 * cached SETs are built from it): `canary = true` pins whatever `canary_explicit` says, so a row written the
 * pre-rollout way (`(platform_id, canary)`) still pins; `canary_explicit` without `canary` excludes; anything else
 * (no row, or a cleared choice) follows the rollout. The admin routes always write both columns.
 */
export function explicitChoiceSql(plan: string): string {
  return `CASE WHEN ${plan}.canary THEN 'in' WHEN ${plan}.canary_explicit THEN 'out' END`;
}

/** Audit actions that change a platform's explicit choice (each takes the platform's plan row lock). */
export const CHOICE_ACTIONS = ['pin', 'exclude', 'follow', 'quarantine', 'release'] as const;

/**
 * How far back a cohort load reports the versions of choice changes: far more than any change can take between its
 * commit and its cache update (store timeouts are seconds), plus clock skew between Postgres and Redis.
 */
export const RECENT_CHOICES_SECONDS = 300;

const ROLLOUT_COLUMNS = 'r.basis_points, r.salt, r.paused, (extract(epoch from r.overrides_revoked_before) * 1000)::bigint AS overrides_revoked_before_ms';
const CHOICE_ACTION_LIST = CHOICE_ACTIONS.map((a) => `'${a}'`).join(', ');

export const SQL = {
  /**
   * Everything the cache holds, in one statement and therefore one snapshot: the rollout, the pinned platforms, the
   * excluded ones, and the version (audit id) of each platform's latest choice change of the last few minutes, so the
   * install can tell which one-platform changes recorded in Redis are newer than this snapshot.
   */
  state: `WITH choices AS (SELECT platform_id, ${explicitChoiceSql('platform_plan')} AS choice FROM platform_plan)
    SELECT ${ROLLOUT_COLUMNS},
      COALESCE((SELECT json_agg(platform_id ORDER BY platform_id) FROM choices WHERE choice = 'in'), '[]'::json) AS pinned,
      COALESCE((SELECT json_agg(platform_id ORDER BY platform_id) FROM choices WHERE choice = 'out'), '[]'::json) AS excluded,
      COALESCE((SELECT json_agg(json_build_array(platform_id, id)) FROM (
        SELECT DISTINCT ON (platform_id) platform_id, id FROM canary_audit
        WHERE at > now() - interval '${RECENT_CHOICES_SECONDS} seconds' AND platform_id IS NOT NULL AND action IN (${CHOICE_ACTION_LIST})
        ORDER BY platform_id, id DESC) latest), '[]'::json) AS recent
    FROM canary_rollout r WHERE r.id = 1`,
  /** One platform's choice and the rollout; `exists` tells an unknown platform apart. */
  platformState: `SELECT $1::text AS platform_id, EXISTS (SELECT 1 FROM platform WHERE id = $1) AS exists, ${explicitChoiceSql('pp')} AS explicit_choice, ${ROLLOUT_COLUMNS}
    FROM canary_rollout r LEFT JOIN platform_plan pp ON pp.platform_id = $1 WHERE r.id = 1`,
  /** The platform of a flow (none: no row), with its choice and the rollout. */
  flowState: `SELECT pr.platform_id AS platform_id, ${explicitChoiceSql('pp')} AS explicit_choice, ${ROLLOUT_COLUMNS}
    FROM flow f JOIN project pr ON pr.id = f.project_id
    LEFT JOIN platform_plan pp ON pp.platform_id = pr.platform_id
    CROSS JOIN canary_rollout r
    WHERE f.id = $1 AND r.id = 1`,
  /** The platform of an API key by the key's SHA-256 (none: no row), with its choice and the rollout. */
  apiKeyState: `SELECT k.platform_id AS platform_id, ${explicitChoiceSql('pp')} AS explicit_choice, ${ROLLOUT_COLUMNS}
    FROM api_key k LEFT JOIN platform_plan pp ON pp.platform_id = k.platform_id
    CROSS JOIN canary_rollout r
    WHERE k.hashed_value = $1 AND r.id = 1`,
} as const;

/** A row carrying a platform's choice (explicitChoiceSql) and the rollout state. */
export interface StateRow extends Record<string, unknown> {
  platform_id: string | null;
  explicit_choice: 'in' | 'out' | null;
  basis_points: number;
  salt: string;
  paused: boolean;
  /** Override tokens minted at or before this instant (epoch ms) are ignored. */
  overrides_revoked_before_ms: number | string;
}

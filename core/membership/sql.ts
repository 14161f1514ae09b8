/** SQL of the membership core; plain Postgres, valid for Neon HTTP and node-postgres alike. */

const ROLLOUT_COLUMNS = 'r.basis_points, r.salt, r.paused';
const CHOICE_COLUMNS = 'COALESCE(pp.canary, false) AS canary, COALESCE(pp.canary_explicit, false) AS canary_explicit';

export const SQL = {
  /**
   * Everything the cache holds, in one statement and therefore one snapshot: the rollout, the pinned platforms and
   * the excluded ones. (Pinned and excluded are read apart from the rollout only when they are consistent with it.)
   * `canary = true` pins whatever `canary_explicit` says, so a row written the pre-rollout way still pins (see
   * explicitChoiceOf).
   */
  state: `SELECT ${ROLLOUT_COLUMNS},
      COALESCE((SELECT json_agg(platform_id ORDER BY platform_id) FROM platform_plan WHERE canary), '[]'::json) AS pinned,
      COALESCE((SELECT json_agg(platform_id ORDER BY platform_id) FROM platform_plan WHERE canary_explicit AND NOT canary), '[]'::json) AS excluded
    FROM canary_rollout r WHERE r.id = 1`,
  /** One platform's choice and the rollout; `exists` tells an unknown platform apart. */
  platformState: `SELECT $1::text AS platform_id, EXISTS (SELECT 1 FROM platform WHERE id = $1) AS exists, ${CHOICE_COLUMNS}, ${ROLLOUT_COLUMNS}
    FROM canary_rollout r LEFT JOIN platform_plan pp ON pp.platform_id = $1 WHERE r.id = 1`,
  /** The platform of a flow (none: no row), with its choice and the rollout. */
  flowState: `SELECT pr.platform_id AS platform_id, ${CHOICE_COLUMNS}, ${ROLLOUT_COLUMNS}
    FROM flow f JOIN project pr ON pr.id = f.project_id
    LEFT JOIN platform_plan pp ON pp.platform_id = pr.platform_id
    CROSS JOIN canary_rollout r
    WHERE f.id = $1 AND r.id = 1`,
  /** The platform of an API key by the key's SHA-256 (none: no row), with its choice and the rollout. */
  apiKeyState: `SELECT k.platform_id AS platform_id, ${CHOICE_COLUMNS}, ${ROLLOUT_COLUMNS}
    FROM api_key k LEFT JOIN platform_plan pp ON pp.platform_id = k.platform_id
    CROSS JOIN canary_rollout r
    WHERE k.hashed_value = $1 AND r.id = 1`,
} as const;

/** A row carrying a platform's choice and the rollout state. */
export interface StateRow extends Record<string, unknown> {
  platform_id: string | null;
  canary: boolean;
  canary_explicit: boolean;
  basis_points: number;
  salt: string;
  paused: boolean;
}

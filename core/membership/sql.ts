/** SQL of the membership core; plain Postgres, valid for Neon HTTP and node-postgres alike. */
export const SQL = {
  cohort: 'SELECT platform_id FROM platform_plan WHERE canary = true ORDER BY platform_id',
  isCanary: 'SELECT canary FROM platform_plan WHERE platform_id = $1',
  platformByFlow: `SELECT pr.platform_id AS platform_id, COALESCE(pp.canary, false) AS canary
    FROM flow f JOIN project pr ON pr.id = f.project_id
    LEFT JOIN platform_plan pp ON pp.platform_id = pr.platform_id
    WHERE f.id = $1`,
  platformByApiKey: `SELECT k.platform_id AS platform_id, COALESCE(pp.canary, false) AS canary
    FROM api_key k LEFT JOIN platform_plan pp ON pp.platform_id = k.platform_id
    WHERE k.hashed_value = $1`,
  // Upsert so that a platform without a plan row can still be flipped; a platform that does not exist yields no row.
  setCanary: `INSERT INTO platform_plan (platform_id, canary)
    SELECT id, $2 FROM platform WHERE id = $1
    ON CONFLICT (platform_id) DO UPDATE SET canary = EXCLUDED.canary
    RETURNING platform_id, canary`,
} as const;

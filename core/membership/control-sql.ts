import { CHOICE_ACTIONS, explicitChoiceSql } from './sql.js';

/**
 * SQL of the operator plane. Every change is one statement whose data-modifying CTEs write the change and its audit
 * entry together: a statement is atomic, so a change without its entry (or an entry without its change) cannot exist.
 * The `before` CTE reads the row as it was (all CTEs of a statement see the same snapshot).
 */

const ROLLOUT_JSON = `jsonb_build_object('percent', {t}.basis_points / 100.0, 'paused', {t}.paused)`;
const rolloutJson = (t: string): string => ROLLOUT_JSON.replaceAll('{t}', t);

export const CONTROL_SQL = {
  /**
   * $1 platform, $2 canary, $3 actor, $4 action (pin, exclude, quarantine), $5 reason, $6 evidence (jsonb merged into
   * `after`, or null). Upserts the plan row (a platform without one gets it); the audit id comes back as the change's
   * version (ordered per platform by the row lock).
   */
  setChoice: `WITH target AS (SELECT id FROM platform WHERE id = $1),
    before AS (SELECT canary, canary_explicit FROM platform_plan WHERE platform_id = $1),
    changed AS (
      INSERT INTO platform_plan (platform_id, canary, canary_explicit) SELECT id, $2, true FROM target
      ON CONFLICT (platform_id) DO UPDATE SET canary = EXCLUDED.canary, canary_explicit = true
      RETURNING platform_id, canary, canary_explicit),
    audit AS (
      INSERT INTO canary_audit (actor, action, platform_id, before, after, reason)
      SELECT $3, $4, c.platform_id,
        (SELECT jsonb_build_object('canary', b.canary, 'explicit', b.canary_explicit) FROM before b),
        jsonb_build_object('canary', c.canary, 'explicit', c.canary_explicit) || COALESCE($6::jsonb, '{}'::jsonb), $5
      FROM changed c RETURNING id)
    SELECT c.platform_id, c.canary, (SELECT id FROM audit) AS audit_id FROM changed c`,

  /**
   * $1 platform, $2 actor, $3 reason, $4 action (follow, or release for a quarantined platform). Clears the explicit
   * choice (`canary` back to false: `canary = true` keeps meaning "pinned"); the rollout row and the audit id (the
   * change's version) come back so the caller can tell the effective membership and update the cache in place.
   */
  clearChoice: `WITH target AS (SELECT id FROM platform WHERE id = $1),
    before AS (SELECT canary, canary_explicit FROM platform_plan WHERE platform_id = $1),
    changed AS (
      INSERT INTO platform_plan (platform_id, canary, canary_explicit) SELECT id, false, false FROM target
      ON CONFLICT (platform_id) DO UPDATE SET canary = false, canary_explicit = false
      RETURNING platform_id, canary, canary_explicit),
    audit AS (
      INSERT INTO canary_audit (actor, action, platform_id, before, after, reason)
      SELECT $2, $4, c.platform_id,
        (SELECT jsonb_build_object('canary', b.canary, 'explicit', b.canary_explicit) FROM before b),
        jsonb_build_object('canary', c.canary, 'explicit', c.canary_explicit), $3
      FROM changed c RETURNING id)
    SELECT c.platform_id, ${explicitChoiceSql('c')} AS explicit_choice, r.basis_points, r.salt, r.paused, (SELECT id FROM audit) AS audit_id
    FROM changed c CROSS JOIN canary_rollout r WHERE r.id = 1`,

  /** $1 basis points, $2 actor, $3 reason. */
  setRollout: `WITH before AS (SELECT basis_points, paused FROM canary_rollout WHERE id = 1),
    changed AS (
      UPDATE canary_rollout SET basis_points = $1, updated_at = now(), updated_by = $2 WHERE id = 1
      RETURNING basis_points, salt, paused, updated_at, updated_by),
    audit AS (
      INSERT INTO canary_audit (actor, action, before, after, reason)
      SELECT $2, 'rollout', (SELECT ${rolloutJson('b')} FROM before b), ${rolloutJson('c')}, $3 FROM changed c RETURNING id)
    SELECT basis_points, salt, paused, updated_at, updated_by FROM changed`,

  /**
   * $1 paused, $2 actor, $3 action (pause/resume), $4 reason, $5 evidence (jsonb, merged into `after`), $6 only when it
   * changes (no row and no audit entry when it was already so: two guards tripping at once pause once).
   */
  setPaused: `WITH before AS (SELECT basis_points, paused FROM canary_rollout WHERE id = 1),
    changed AS (
      UPDATE canary_rollout SET paused = $1, updated_at = now(), updated_by = $2
      WHERE id = 1 AND ($6::boolean IS NOT TRUE OR paused IS DISTINCT FROM $1)
      RETURNING basis_points, salt, paused, updated_at, updated_by),
    audit AS (
      INSERT INTO canary_audit (actor, action, before, after, reason)
      SELECT $2, $3, (SELECT ${rolloutJson('b')} FROM before b), ${rolloutJson('c')} || COALESCE($5::jsonb, '{}'::jsonb), $4
      FROM changed c RETURNING id)
    SELECT basis_points, salt, paused, updated_at, updated_by, (SELECT before.paused FROM before) AS was_paused FROM changed`,

  /**
   * $1 actor, $2 reason. Revokes every override token minted until now (the instant is kept in ms precision; a token
   * minted in the same millisecond is revoked too).
   */
  revokeOverrides: `WITH before AS (SELECT overrides_revoked_before FROM canary_rollout WHERE id = 1),
    changed AS (
      UPDATE canary_rollout SET overrides_revoked_before = date_trunc('milliseconds', clock_timestamp()) WHERE id = 1
      RETURNING (extract(epoch from overrides_revoked_before) * 1000)::bigint AS revoked_before_ms),
    audit AS (
      INSERT INTO canary_audit (actor, action, before, after, reason)
      SELECT $1, 'revoke-overrides',
        (SELECT jsonb_build_object('revokedBefore', b.overrides_revoked_before) FROM before b),
        jsonb_build_object('revokedBefore', to_timestamp(c.revoked_before_ms / 1000.0)), $2
      FROM changed c RETURNING id)
    SELECT revoked_before_ms FROM changed`,

  /** $1 actor, $2 action, $3 platform (or null), $4 after (jsonb), $5 reason: an audited event that changes no row. */
  auditEvent: `INSERT INTO canary_audit (actor, action, platform_id, after, reason) VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING id`,

  /**
   * Platforms the judge quarantined and nobody has moved since: excluded now, their latest choice change a
   * `quarantine`. Newest first.
   */
  quarantined: `SELECT q.platform_id, q.at, q.reason FROM (
      SELECT DISTINCT ON (a.platform_id) a.platform_id, a.action, a.at, a.reason
      FROM canary_audit a JOIN platform_plan pp ON pp.platform_id = a.platform_id AND pp.canary_explicit AND NOT pp.canary
      WHERE a.action IN (${CHOICE_ACTIONS.map((x) => `'${x}'`).join(', ')})
      ORDER BY a.platform_id, a.id DESC) q
    WHERE q.action = 'quarantine' ORDER BY q.at DESC LIMIT 1000`,

  /** The rollout record with who changed it when. */
  rollout: `SELECT basis_points, salt, paused, updated_at, updated_by FROM canary_rollout WHERE id = 1`,

  /** $1 limit, $2 platform (null: all), $3 before id (null: newest). Newest first. */
  audit: `SELECT id, at, actor, action, platform_id, before, after, reason FROM canary_audit
    WHERE ($2::text IS NULL OR platform_id = $2) AND ($3::bigint IS NULL OR id < $3)
    ORDER BY id DESC LIMIT $1`,
} as const;

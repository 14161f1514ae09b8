import type { SqlClient } from '../membership/ports.js';

/**
 * Admin page sessions, kept server-side (`canary_admin_session`): the signed cookie names a session, and the session is
 * valid only while its row is live, so signing out ends it for real and "sign out everywhere" ends them all. Checked
 * on every page request, never on the proxy path.
 */
export interface AdminSessionStore {
  create(id: string, expiresAt: Date): Promise<void>;
  /** True while the session has not ended and has not expired. */
  isLive(id: string): Promise<boolean>;
  end(id: string): Promise<void>;
  /** Ends every live session, with one audit entry by `actor`; how many ended. */
  endAll(actor: string): Promise<number>;
}

const SESSION_SQL = {
  create: 'INSERT INTO canary_admin_session (id, expires_at) VALUES ($1, $2)',
  isLive: 'SELECT EXISTS (SELECT 1 FROM canary_admin_session WHERE id = $1 AND ended_at IS NULL AND expires_at > now()) AS live',
  end: 'UPDATE canary_admin_session SET ended_at = now() WHERE id = $1 AND ended_at IS NULL',
  endAll: `WITH ended AS (
      UPDATE canary_admin_session SET ended_at = now() WHERE ended_at IS NULL AND expires_at > now() RETURNING id),
    audit AS (
      INSERT INTO canary_audit (actor, action, after) SELECT $1, 'sign-out-everywhere', jsonb_build_object('sessions', (SELECT count(*) FROM ended))
      RETURNING id)
    SELECT (SELECT count(*) FROM ended) AS ended, (SELECT id FROM audit) AS audit_id`,
  /** Rows of sessions that expired a day ago are of no use to anyone. */
  prune: "DELETE FROM canary_admin_session WHERE expires_at < now() - interval '1 day'",
} as const;

/** The session store over Postgres. */
export class SqlAdminSessions implements AdminSessionStore {
  constructor(private readonly sql: SqlClient) {}

  async create(id: string, expiresAt: Date): Promise<void> {
    await this.sql.query(SESSION_SQL.prune, []);
    await this.sql.query(SESSION_SQL.create, [id, expiresAt.toISOString()]);
  }

  async isLive(id: string): Promise<boolean> {
    const row = (await this.sql.query<{ live: boolean }>(SESSION_SQL.isLive, [id]))[0];
    return row?.live === true;
  }

  async end(id: string): Promise<void> {
    await this.sql.query(SESSION_SQL.end, [id]);
  }

  async endAll(actor: string): Promise<number> {
    const row = (await this.sql.query<{ ended: string | number }>(SESSION_SQL.endAll, [actor]))[0];
    return Number(row?.ended ?? 0);
  }
}

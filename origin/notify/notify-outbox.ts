import type { Queue } from 'bullmq';
import type { AuditEntry } from '../../core/membership/index.js';
import type { SqlClient } from '../../core/membership/ports.js';
import { notificationOf } from '../../core/notify/notification.js';
import type { Notification } from '../../core/notify/notification.js';
import type { Logger } from '../logger.js';

/** Audit entries read per tick (a backlog is worked off over the next ticks). */
const BATCH = 500;

const SQL = {
  /** $1 limit. The audit entries after the cursor, oldest first, and the cursor. */
  after: `SELECT a.id, a.at, a.actor, a.action, a.platform_id, a.after, a.reason, c.last_audit_id
    FROM canary_notify_cursor c JOIN canary_audit a ON a.id > c.last_audit_id WHERE c.id = 1 ORDER BY a.id LIMIT $1`,
  /** $1 from, $2 to: moves the cursor if nobody else did. */
  advance: `UPDATE canary_notify_cursor SET last_audit_id = $2 WHERE id = 1 AND last_audit_id = $1`,
};

interface Row extends Record<string, unknown> {
  id: string | number;
  at: Date | string;
  actor: string;
  action: string;
  platform_id: string | null;
  after: unknown;
  reason: string | null;
  last_audit_id: string | number;
}

/**
 * The notification outbox: the audit log is it. Each tick hands the notifiable entries written since the cursor to the
 * queue (job id = the notification's id, so a crash between the add and the cursor's move adds nothing twice), then
 * moves the cursor. A change made anywhere — the edge's admin routes, the page, the judge, a plan — is notified, and
 * one made while no app ran is notified when one runs again. Returns how many were queued.
 */
export async function enqueueNotifications(deps: { sql: SqlClient; queue: Pick<Queue<Notification>, 'addBulk'>; logger: Logger }): Promise<number> {
  const rows = await deps.sql.query<Row>(SQL.after, [BATCH]);
  const last = rows.at(-1);
  if (last === undefined) return 0;
  const notifications = rows
    .map((r): AuditEntry => ({ id: Number(r.id), at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, platformId: r.platform_id, before: null, after: r.after, reason: r.reason }))
    .map(notificationOf)
    .filter((n): n is Notification => n !== null);
  if (notifications.length > 0) await deps.queue.addBulk(notifications.map((n) => ({ name: n.event, data: n, opts: { jobId: n.id } })));
  await deps.sql.query(SQL.advance, [Number(last.last_audit_id), Number(last.id)]);
  if (notifications.length > 0) deps.logger.info('notifications queued', { count: notifications.length, ids: notifications.map((n) => n.id) });
  return notifications.length;
}

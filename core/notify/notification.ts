import type { AuditEntry } from '../membership/canary-control.js';
import { PLAN_ACTIONS } from '../plans/plan-sql.js';

/** What a notification receiver gets (DESIGN §8), the same body on every retry. */
export interface Notification {
  /** Stable: the audit entry's, so a receiver can drop a repeat. */
  id: string;
  at: string;
  event: string;
  plan: number | null;
  /** The plan's step (1-based) the event is about, or null. */
  step: number | null;
  verdict: string | null;
  evidence: unknown;
  /** One line for people: what a Slack- or Teams-style incoming webhook shows as it is. */
  text: string;
  actor: string;
  platformId: string | null;
  reason: string | null;
}

/** Audit actions that are notified: every plan transition, quarantine, pause and resume. */
export const NOTIFIED_ACTIONS: ReadonlySet<string> = new Set([...PLAN_ACTIONS, 'quarantine', 'pause', 'resume']);

function field(after: unknown, key: string): unknown {
  return typeof after === 'object' && after !== null && !Array.isArray(after) ? (after as Record<string, unknown>)[key] : undefined;
}

/** The verdict an event carries: the judge's for its own actions, the plan's reading of it for its transitions. */
function verdictOf(entry: AuditEntry): string | null {
  if (entry.actor === 'judge') return 'fail';
  if (entry.action === 'plan-step' && entry.actor === 'plan') return 'pass';
  if (entry.action === 'plan-abort' && entry.actor === 'plan') return 'fail';
  return null;
}

/** The notification of an audit entry (null for an action that is not notified). */
export function notificationOf(entry: AuditEntry): Notification | null {
  if (!NOTIFIED_ACTIONS.has(entry.action)) return null;
  const plan = field(entry.after, 'plan');
  const step = field(entry.after, 'step');
  const percent = field(entry.after, 'percent');
  const subject = entry.platformId === null ? '' : ` ${entry.platformId}`;
  const where = typeof plan === 'number' ? ` (plan ${plan}${typeof step === 'number' ? `, step ${step + 1}` : ''}${typeof percent === 'number' ? `, rollout ${percent}%` : ''})` : '';
  return {
    id: `canary-audit-${entry.id}`,
    at: entry.at,
    event: entry.action,
    plan: typeof plan === 'number' ? plan : null,
    step: typeof step === 'number' ? step + 1 : null,
    verdict: verdictOf(entry),
    evidence: field(entry.after, 'evidence') ?? null,
    text: `canary: ${entry.action}${subject}${where} by ${entry.actor}${entry.reason === null ? '' : ` — ${entry.reason}`}`.slice(0, 3000),
    actor: entry.actor,
    platformId: entry.platformId,
    reason: entry.reason,
  };
}

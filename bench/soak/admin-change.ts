import type { EdgeHarness } from '../../testkit/edge-harness.js';
import type { ChangeWindow, MembershipLedger } from './ledger.js';

/** An admin route's answer: its status (0 when there was no answer) and its JSON body (null when not JSON). */
export interface AdminAnswer {
  status: number;
  body: unknown;
}

/** How the attempts of one kind of change went. */
export interface ChangeStats {
  /** Changes acknowledged with a 200. */
  acked: number;
  /** 503 answers (store unavailable / invalidation failed), each followed by a retry. */
  retried503: number;
  /** Answers other than 200/503, or no answer at all. */
  unexpected: number;
  /** Changes still not acknowledged when the soak had to stop. */
  unacked: number;
}

/** A fresh, all-zero `ChangeStats`. */
export function emptyChangeStats(): ChangeStats {
  return { acked: 0, retried503: 0, unexpected: 0, unacked: 0 };
}

/** Calls an admin route with the admin key; never rejects (no answer is status 0). */
export async function adminCall(h: EdgeHarness, method: string, path: string, body?: unknown): Promise<AdminAnswer> {
  try {
    const res = await h.call(method, path, body);
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      parsed = null;
    }
    return { status: res.status, body: parsed };
  } catch {
    return { status: 0, body: null };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends one change until the admin route acknowledges it with a 200 (the contract says: on 503, retry the same
 * request), closing its ledger window then; resolves with the 200's body, or null when `giveUpAt` passed first (the
 * window stays open: the store may or may not hold the change, so either side stays acceptable).
 */
export async function untilAcknowledged(
  call: () => Promise<AdminAnswer>,
  window: ChangeWindow,
  ledger: MembershipLedger,
  stats: ChangeStats,
  options: { giveUpAt: number; retryMs: number },
): Promise<{ acked: true; body: unknown } | { acked: false }> {
  while (performance.now() < options.giveUpAt) {
    window.attempts++;
    const answer = await call();
    if (answer.status === 200) {
      ledger.ack(window, performance.now());
      stats.acked++;
      return { acked: true, body: answer.body };
    }
    if (answer.status === 503) stats.retried503++;
    else stats.unexpected++;
    await sleep(options.retryMs);
  }
  stats.unacked++;
  return { acked: false };
}

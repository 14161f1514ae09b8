/** Event a principal's socket receives for every finished run of its platform. */
export const FLOW_RUN_FINISHED = 'flow-run-finished';

/**
 * Payload of `flow-run-finished` (a contract shape, docs/architecture.md §1). `eventId` is the event's id in the
 * platform's replay stream: a client dedupes by it and passes the last one it saw as `lastEventId` when it reconnects.
 * Absent when the replay stream could not be written (the event is still delivered live).
 */
export interface FlowRunFinishedEvent {
  runId: string;
  flowId: string;
  platformId: string;
  status: string;
  workerVersion: string | null;
  eventId?: string;
}

/** Which build an app runs: the primary or the canary (AP_IS_CANARY_APP). */
export type AppSide = 'primary' | 'canary';

/** The side an app of this configuration is on. */
export function sideOf(isCanaryApp: boolean): AppSide {
  return isCanaryApp ? 'canary' : 'primary';
}

/**
 * Sent once to every principal socket right after it joined its platform's room: which app it reached, and the replay
 * cursor (the id of the platform's latest event, `0-0` when it has none, null when Redis could not say) to pass as
 * `lastEventId` while it has received no event yet.
 */
export const CANARY_HELLO = 'canary:hello';

/** Payload of `canary:hello`. */
export interface CanaryHello {
  version: string;
  side: AppSide;
  eventId: string | null;
}

/**
 * Sent to a socket whose platform moved to the other side, just before the app disconnects it: the client reconnects
 * (through the edge, which routes it to `side`) with `auth: { token, lastEventId }` and is replayed what it missed.
 */
export const CANARY_RECONNECT = 'canary:reconnect';

/** Why a socket is asked to reconnect. */
export type ReconnectReason = 'membership-changed';

/** Payload of `canary:reconnect`: `side` is where the platform belongs now. */
export interface CanaryReconnect {
  reason: ReconnectReason;
  side: AppSide;
}

const WEBHOOK_PATH = /^\/v1\/webhooks\/([A-Za-z0-9_-]{1,64})(?:\/(?:sync|draft|test))?\/?$/;

/** The flow id of a webhook path (`/v1/webhooks/:flowId` and its `/sync`, `/draft`, `/test` sub-paths), else null. */
export function flowIdFromPath(pathname: string): string | null {
  return WEBHOOK_PATH.exec(pathname)?.[1] ?? null;
}

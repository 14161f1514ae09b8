/**
 * Header an origin puts on a 5xx the client itself caused (DESIGN §8: e.g. its own flow outlived the sync wait, 504
 * `run_timeout`): the edge counts the request but not as an error of the origin's, so a tenant's slow flows can never
 * make the canary look broken, and strips the header before the client sees it.
 */
export const CANARY_FAULT_HEADER = 'x-canary-fault';
/** The value of CANARY_FAULT_HEADER for a failure the client caused. */
export const CLIENT_FAULT = 'client';

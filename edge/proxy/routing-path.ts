/**
 * The path as an origin's router will see it: percent-decoded (`/%761/…` is `/v1/…` to Hono and most routers) with
 * repeated slashes collapsed. Every path decision at the edge is made on this form, so an encoding trick can neither
 * reach what the edge refuses nor dodge how it routes. A malformed escape leaves the path as it is.
 */
export function routingPath(pathname: string): string {
  let decoded = pathname;
  if (pathname.includes('%')) {
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      decoded = pathname;
    }
  }
  return decoded.includes('//') ? decoded.replace(/\/{2,}/g, '/') : decoded;
}

/** Origin paths never served to the public: the worker control plane (workers talk to their app directly). */
const PRIVATE_PREFIXES = ['/v1/worker', '/worker-socket.io'] as const;

/** True for a routing path inside the worker control plane (case-insensitive, so no spelling reaches it). */
export function isPrivateOriginPath(path: string): boolean {
  const lower = path.toLowerCase();
  return PRIVATE_PREFIXES.some((prefix) => lower === prefix || lower.startsWith(`${prefix}/`));
}

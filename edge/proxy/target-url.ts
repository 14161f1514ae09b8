/**
 * The origin URL for an incoming request: the origin's scheme, host and base path, then the request's path and query.
 * The path is assigned to `pathname` (never resolved against the origin), so `//evil/x`, `%2F%2Fevil` or an
 * absolute-form request target cannot change the host.
 */
export function targetUrl(originBase: string, incoming: URL): URL {
  const target = new URL(originBase);
  const basePath = target.pathname.replace(/\/+$/, '');
  target.pathname = `${basePath}${incoming.pathname}`;
  target.search = incoming.search;
  target.hash = '';
  target.username = '';
  target.password = '';
  return target;
}

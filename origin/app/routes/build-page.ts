import { Hono } from 'hono';

/** The build's name in asset paths: its version with anything outside [A-Za-z0-9._-] replaced. */
export function buildSlug(version: string): string {
  return version.replace(/[^A-Za-z0-9._-]/g, '_');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * The app a browser loads (a stand-in for Activepieces' SPA, so skew protection can be seen and tested): a page
 * stamped with this build, whose script and lazily loaded chunk are named after the build — the other build has no
 * such files. The script shows the build that answered each API call (`x-canary-build`, set by the edge) and, when it
 * is not its own, a banner asking for a reload: how a client reacts to a move.
 */
export function buildPageRoutes(version: string): Hono {
  const routes = new Hono();
  const slug = buildSlug(version);
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>canary-edge demo app</title>
<meta name="ap-build" content="${escapeHtml(version)}">
<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:48rem}#banner{display:none;background:#fffaeb;border:1px solid #fedf89;padding:.75rem;border-radius:6px}code{background:#f2f4f7;padding:0 .25rem}</style>
</head><body>
<p id="banner">A newer version of this app answered: <button id="reload">reload</button> to use it.</p>
<h1>Build <code id="build">${escapeHtml(version)}</code></h1>
<p>This page and its script <code>/assets/app-${escapeHtml(slug)}.js</code> came from this build; the script loads its chunk lazily.</p>
<p>Last API answer from build: <code id="api-build">-</code></p>
<script type="module" src="/assets/app-${escapeHtml(slug)}.js"></script>
</body></html>`;
  const app = `const own = document.querySelector('meta[name="ap-build"]').content;
const { start } = await import('/assets/chunk-${slug}.js');
start(own);
`;
  const chunk = `export function start(own) {
  const shown = document.getElementById('api-build');
  const banner = document.getElementById('banner');
  document.getElementById('reload').addEventListener('click', () => location.reload());
  const check = async () => {
    const res = await fetch('/v1/health', { credentials: 'same-origin' });
    const build = res.headers.get('x-canary-build') ?? res.headers.get('x-ap-version') ?? '?';
    shown.textContent = build;
    if (build !== own) banner.style.display = 'block';
  };
  check();
  setInterval(check, 15000);
}
`;
  routes.get('/', (c) => c.html(page, 200, { 'cache-control': 'no-store' }));
  routes.get(`/assets/app-${slug}.js`, (c) => c.body(app, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable' }));
  routes.get(`/assets/chunk-${slug}.js`, (c) => c.body(chunk, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable' }));
  return routes;
}

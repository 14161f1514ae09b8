import type { LuaScript } from './ports.js';

const cache = new Map<string, Promise<string>>();

/** SHA-1 hex of a script's source (what EVALSHA takes), computed once per script with Web Crypto. */
export function scriptSha(script: LuaScript): Promise<string> {
  let sha = cache.get(script.source);
  if (sha === undefined) {
    sha = crypto.subtle.digest('SHA-1', new TextEncoder().encode(script.source)).then((buf) =>
      Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join(''),
    );
    cache.set(script.source, sha);
  }
  return sha;
}

/** True when Redis answered that it does not know the script (EVALSHA must fall back to EVAL). */
export function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && error.message.includes('NOSCRIPT');
}

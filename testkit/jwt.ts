function b64url(text: string): string {
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** An unsigned `alg: none` token naming the platform (must never be accepted). */
export function algNoneToken(platformId: string): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ type: 'USER', platform: { id: platformId }, exp: now + 3600 }));
  return `${header}.${payload}.`;
}

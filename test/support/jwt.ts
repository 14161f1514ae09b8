import { sign } from 'hono/jwt';

export type PrincipalType = 'USER' | 'SERVICE' | 'ENGINE' | 'WORKER';

export interface PrincipalTokenOptions {
  platformId: string;
  secret: string;
  type?: PrincipalType;
  expiresInSeconds?: number;
}

/** Signs an Activepieces-style principal JWT (HS256). */
export function principalToken(options: PrincipalTokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    {
      id: `user-${crypto.randomUUID()}`,
      type: options.type ?? 'USER',
      projectId: `project-${options.platformId}`,
      platform: { id: options.platformId },
      iat: now,
      exp: now + (options.expiresInSeconds ?? 3600),
    },
    options.secret,
    'HS256',
  );
}

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

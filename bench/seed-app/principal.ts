import { createHmac, timingSafeEqual } from 'node:crypto';

/** What the seed app's authentication step attaches to a request (Activepieces' `request.principal`, reduced). */
export interface Principal {
  type: string;
  platform: { id: string };
}

function decodePart(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Verifies an HS256 principal JWT (signature and `exp`) and returns its principal, or null. */
export function verifyPrincipal(authorization: string | undefined, secret: string, nowSeconds: number): Principal | null {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (token === undefined) return null;
  const [header, payload, signature] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return null;
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const head = decodePart(header);
  const body = decodePart(payload);
  if (!isRecord(head) || head.alg !== 'HS256' || !isRecord(body)) return null;
  if (typeof body.exp !== 'number' || body.exp <= nowSeconds) return null;
  const platform = body.platform;
  if (typeof body.type !== 'string' || !isRecord(platform) || typeof platform.id !== 'string') return null;
  return { type: body.type, platform: { id: platform.id } };
}

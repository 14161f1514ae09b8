import { verify } from 'hono/jwt';
import { z } from 'zod';

/** Who is calling, from a principal JWT (DESIGN §2 claims). */
export interface Principal {
  id: string;
  type: 'USER' | 'SERVICE' | 'ENGINE';
  platformId: string;
}

const ClaimsSchema = z.object({
  id: z.string().min(1),
  type: z.enum(['USER', 'SERVICE', 'ENGINE']),
  platform: z.object({ id: z.string().min(1) }),
});

/** Verifies an HS256 principal JWT (signature, `exp`, claims); null for anything invalid. */
export async function verifyPrincipal(token: string, secret: string): Promise<Principal | null> {
  try {
    const payload = await verify(token, secret, 'HS256');
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) return null;
    return { id: claims.data.id, type: claims.data.type, platformId: claims.data.platform.id };
  } catch {
    return null;
  }
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined | null): string | null {
  if (header === undefined || header === null) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1] ?? null;
}

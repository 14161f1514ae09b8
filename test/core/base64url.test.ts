import { describe, expect, it } from 'vitest';
import { verifyPrincipalJwt } from '../../core/auth/principal-jwt.js';
import { fromBase64Url, toBase64Url } from '../../core/crypto/encoding.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { signCanaryCookie, verifyCanaryCookie } from '../../edge/resolve/canary-cookie.js';

// base64url leaves spare bits in its last character, so several spellings decode to the same bytes. Every token and
// cookie of the edge accepts only the canonical one: no second spelling of a credential passes a check, or becomes a
// second cache key for it.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same bytes spelt another way: the last character's unused low bits set. */
function withPaddingBits(text: string): string {
  const last = ALPHABET.indexOf(text.slice(-1));
  return `${text.slice(0, -1)}${ALPHABET[last | 0b11] ?? ''}`;
}

const SECRET = 'test-secret-0123456789abcdef';

describe('fromBase64Url', () => {
  it('decodes the canonical spelling', () => {
    const bytes = new Uint8Array([1, 2, 3, 250, 251, 252, 253]);
    expect(fromBase64Url(toBase64Url(bytes))).toEqual(bytes);
  });

  it.each([
    ['spare bits set in the last character', withPaddingBits(toBase64Url(new Uint8Array([1, 2, 3, 4])))],
    ['padding', `${toBase64Url(new Uint8Array([1, 2, 3, 4]))}==`],
    ['an impossible length', 'AAAAA'],
    ['the standard alphabet', 'ab+/'],
  ])('refuses %s', (_what, text) => {
    expect(fromBase64Url(text)).toBeNull();
  });
});

describe('credentials have one spelling', () => {
  it('refuses a principal JWT whose signature is spelt another way', async () => {
    const token = await signPrincipalJwt(SECRET, 'plat_1');
    const now = Math.floor(Date.now() / 1000);
    expect(await verifyPrincipalJwt(token, SECRET, now)).not.toBeNull();
    const variant = withPaddingBits(token);
    expect(variant).not.toBe(token);
    expect(await verifyPrincipalJwt(variant, SECRET, now)).toBeNull();
  });

  it('refuses a canary cookie whose MAC is spelt another way', async () => {
    const now = Math.floor(Date.now() / 1000);
    const value = (await signCanaryCookie('plat_1', SECRET, now)) ?? '';
    expect(await verifyCanaryCookie(value, SECRET, now)).toBe('plat_1');
    expect(await verifyCanaryCookie(withPaddingBits(value), SECRET, now)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { describeStoreError, redactSecrets, urlPassword } from '../../core/log/redact.js';

describe('redactSecrets', () => {
  it.each([
    ['postgres://app:s3cret@db.example.com/main', 'postgres://***@db.example.com/main'],
    ['connect postgres://app:p#ss@w0rd@db:5432/x failed', 'connect postgres://***@db:5432/x failed'],
    ['a "postgresql://u:a:b@c@h/d" b', 'a "postgresql://***@h/d" b'],
    ['https://default:tok@eu1.upstash.io', 'https://***@eu1.upstash.io'],
    ['no url here', 'no url here'],
    ['http://host/path?x=@y', 'http://***@y'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it('removes given secrets in raw, encoded and decoded form', () => {
    const secret = 'p#ss@w0rd';
    expect(redactSecrets(`a ${secret} b ${encodeURIComponent(secret)} c`, [secret])).toBe('a *** b *** c');
    expect(redactSecrets('token=abcd-1234', ['abcd-1234'])).toBe('token=***');
  });

  it('ignores secrets too short to be one (they would erase ordinary text)', () => {
    expect(redactSecrets('a b c', ['a'])).toBe('a b c');
  });
});

describe('urlPassword', () => {
  it('returns the decoded password of a connection string', () => {
    expect(urlPassword('postgres://u:p%23ss%40w0rd@h/d')).toBe('p#ss@w0rd');
    expect(urlPassword('postgres://u@h/d')).toBeNull();
    expect(urlPassword('not a url')).toBeNull();
  });
});

describe('describeStoreError', () => {
  it('drops the command an Upstash error embeds and redacts credentials a driver echoes', () => {
    const error = new Error('Database connection string format should be: postgres://u:p%23ss%40w0rd@h/d, command was: ["EVALSHA","abc"]');
    const text = describeStoreError(error, [urlPassword('postgres://u:p%23ss%40w0rd@h/d') ?? '']);
    expect(text).toBe('Error: Database connection string format should be: postgres://***@h/d');
  });

  it('bounds its length', () => {
    expect(describeStoreError(new Error('x'.repeat(10_000))).length).toBeLessThanOrEqual(300);
  });
});

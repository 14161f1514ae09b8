import path from 'node:path';

/** The repository root (this file lives in dev/). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..');

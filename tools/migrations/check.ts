import { loadMigrations } from './load-migrations.js';
import type { Migration } from './migration-file.js';

/** What deploying this build over the running one would apply. */
export interface GateResult {
  /** The running manifest was missing or empty: nothing is deployed yet, so nothing can break. */
  nothingDeployed: boolean;
  /** Migrations of this build absent from the running manifest, in apply order. */
  incoming: Migration[];
  /** The breaking ones among `incoming`: the deploy must not proceed. */
  offenders: Migration[];
  /** Names the running build has and this build lacks (this build is behind or diverged). */
  missingFromBuild: string[];
}

export interface CheckManifestOptions {
  /** Migrations of the candidate build; defaults to the repository's. */
  migrationsDir?: string;
}

/** The breaking-migration gate: compares this build's migrations against the running canary's manifest. */
export function checkManifest(running: readonly string[] | null, options: CheckManifestOptions = {}): GateResult {
  const build = loadMigrations(options.migrationsDir);
  const deployed = new Set(running ?? []);
  const incoming = build.filter((m) => !deployed.has(m.name));
  const buildNames = new Set(build.map((m) => m.name));
  return {
    nothingDeployed: running === null || running.length === 0,
    incoming,
    offenders: incoming.filter((m) => m.breaking),
    missingFromBuild: (running ?? []).filter((name) => !buildNames.has(name)),
  };
}

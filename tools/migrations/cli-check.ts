import { z } from 'zod';
import { createProgram, parseArgv, runCli } from '../cli/index.js';
import { checkManifest } from './check.js';
import { ExitCode } from './errors.js';
import { loadManifest } from './manifest.js';

const program = createProgram('npm run migrations:check', 'The breaking-migration gate: refuses breaking migrations of this build that the running build lacks.')
  .usage('-- --running-manifest <file|-> [--migrations-dir DIR]')
  .option('--running-manifest <file|->', "the running build's manifest (a file, or - for stdin); missing or empty means nothing is deployed")
  .option('--migrations-dir <dir>', "this build's migrations (default: the repository's)");

// npm run migrations:check -- --running-manifest <file|->: the breaking-migration gate. Deliberately no override flag.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    runningManifest: z.string({ error: 'is required (a file, or - for stdin)' }).min(1),
    migrationsDir: z.string().min(1).optional(),
  }));
  const source = args.runningManifest;
  const running = await loadManifest(source);
  const result = checkManifest(running, { migrationsDir: args.migrationsDir });
  const incoming = result.incoming.map((m) => `${m.name}${m.breaking ? ' (breaking)' : ''}`).join(', ') || 'none';

  if (result.nothingDeployed) {
    console.log(`running manifest ${source === '-' ? '(stdin)' : source} is ${running === null ? 'missing' : 'empty'}: nothing deployed yet, so no running build can break.`);
    console.log(`this build brings ${result.incoming.length} migration(s): ${incoming}`);
    return ExitCode.ok;
  }
  for (const name of result.missingFromBuild) {
    console.warn(`warning: ${name} is in the running manifest but not in this build; db:migrate will refuse until the database is rolled back to this build's manifest`);
  }
  if (result.offenders.length > 0) {
    console.error(`refusing to deploy: ${result.offenders.length} breaking migration(s) in this build are not in the running manifest:`);
    for (const m of result.offenders) console.error(`  - ${m.name} (release ${m.release}, ${m.file})`);
    console.error('A breaking migration would break the production build sharing this database. There is no override:'
      + ' split it into an additive migration now and the destructive part in a later release, once no running build needs the old schema.');
    return ExitCode.breaking;
  }
  console.log(`ok: ${result.incoming.length} new migration(s), none breaking: ${incoming}`);
  return ExitCode.ok;
});

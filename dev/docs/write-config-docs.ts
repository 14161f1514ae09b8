import { writeConfigSections } from './config-tables.js';

// `npm run docs:config`: regenerates the README's configuration tables from edge/config.ts, origin/config.ts and
// wrangler.toml (a test fails while the README disagrees with them).
writeConfigSections().then(
  (changed) => console.log(changed ? 'README.md: configuration tables updated' : 'README.md: configuration tables already current'),
  (error: unknown) => {
    console.error(`docs:config failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);

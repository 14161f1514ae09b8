import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README_PATH, renderConfigSections } from '../../dev/docs/config-tables.js';
import { EDGE_BINDINGS } from '../../edge/config.js';
import { ORIGIN_ENV } from '../../origin/config.js';

describe('the README configuration tables', () => {
  const readme = readFileSync(README_PATH, 'utf8');

  it('are what edge/config.ts, origin/config.ts and wrangler.toml declare (run `npm run docs:config` after changing them)', () => {
    expect(readme).toBe(renderConfigSections(readme));
  });

  it('list every variable once', () => {
    for (const name of [...Object.keys(EDGE_BINDINGS), ...Object.keys(ORIGIN_ENV), 'UNKNOWN_ID_LIMITER']) {
      expect(readme).toContain(`| \`${name}\` |`);
    }
  });
});

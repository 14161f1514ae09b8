import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildManifest,
  checkManifest,
  loadManifest,
  parseManifest,
  serializeManifest,
  UsageError,
} from '../../tools/migrations/index.js';
import { CHAIN, prefix, writeMigrationsDir } from './support/fixture-migrations.js';

describe('migrations:manifest', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it('lists the build migrations in apply order as {"version":1,"migrations":[...]}', () => {
    const fixture = writeMigrationsDir(prefix(CHAIN, 3));
    cleanup = fixture.remove;
    expect(buildManifest(fixture.dir)).toEqual({ version: 1, migrations: ['0001_widget', '0002_widget_color', '0003_gadget'] });
  });

  it('round-trips through serializeManifest and parseManifest', () => {
    const manifest = buildManifest();
    expect(parseManifest(serializeManifest(manifest), 'm.json')).toEqual(manifest.migrations);
  });

  it('also reads a plain JSON array', () => {
    expect(parseManifest('["0001_a","0002_b"]', 'm.json')).toEqual(['0001_a', '0002_b']);
  });

  it('reads empty text as "nothing deployed" (null)', () => {
    expect(parseManifest('  \n', 'm.json')).toBeNull();
  });

  it.each([
    ['not JSON', 'nope', /is not JSON/],
    ['a name that is not a migration name', '["drop everything"]', /not a migration manifest/],
    ['a duplicate name', '["0001_a","0001_a"]', /twice/],
    ['an unknown version', '{"version":2,"migrations":[]}', /not a migration manifest/],
  ])('rejects %s with a usage error naming the source', (_case, text, message) => {
    expect(() => parseManifest(text, 'running.json')).toThrow(UsageError);
    expect(() => parseManifest(text, 'running.json')).toThrow(message);
    expect(() => parseManifest(text, 'running.json')).toThrow(/running\.json/);
  });

  it('reads "-" from stdin and a missing file as null', async () => {
    expect(await loadManifest('-', Readable.from(['["0001_a"]']))).toEqual(['0001_a']);
    expect(await loadManifest('/nonexistent/manifest.json')).toBeNull();
  });
});

describe('migrations:check (gate)', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  function build(breakingAt: number[] = []): string {
    const fixture = writeMigrationsDir(CHAIN.map((spec, i) => ({ ...spec, breaking: breakingAt.includes(i + 1) })));
    cleanup = fixture.remove;
    return fixture.dir;
  }

  it('passes when every new migration is additive', () => {
    const result = checkManifest(['0001_widget', '0002_widget_color'], { migrationsDir: build() });
    expect(result.nothingDeployed).toBe(false);
    expect(result.incoming.map((m) => m.name)).toEqual(['0003_gadget', '0004_widget_size', '0005_gadget_label']);
    expect(result.offenders).toEqual([]);
  });

  it('names each breaking migration absent from the running manifest', () => {
    const result = checkManifest(['0001_widget', '0002_widget_color'], { migrationsDir: build([2, 3, 5]) });
    // 0002 is breaking but already running, so it can no longer break anything.
    expect(result.offenders.map((m) => m.name)).toEqual(['0003_gadget', '0005_gadget_label']);
  });

  it('reports "nothing deployed yet" for a missing or empty running manifest', () => {
    const dir = build([1]);
    expect(checkManifest(null, { migrationsDir: dir }).nothingDeployed).toBe(true);
    expect(checkManifest([], { migrationsDir: dir }).nothingDeployed).toBe(true);
  });

  it('notices migrations the running build has and this build lacks', () => {
    const result = checkManifest(['0001_widget', '0009_from_a_branch'], { migrationsDir: build() });
    expect(result.missingFromBuild).toEqual(['0009_from_a_branch']);
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The repository's import graph, read from the sources themselves (what `npx madge --circular` reports, without the
// dependency): no file may be part of an import cycle, and each top-level folder imports only the layers below it.

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const FOLDERS = ['core', 'edge', 'origin', 'tools', 'dev', 'testkit', 'bench', 'test'] as const;
type Folder = (typeof FOLDERS)[number];

/** What each folder may import (besides itself): products at the bottom, tooling above, tests on top. */
const MAY_IMPORT: Record<Folder, readonly Folder[]> = {
  core: [],
  edge: ['core'],
  origin: ['core'],
  tools: ['core'],
  dev: ['core', 'edge', 'origin', 'tools'],
  testkit: ['core', 'edge', 'origin', 'tools', 'dev'],
  bench: ['core', 'edge', 'origin', 'tools', 'dev', 'testkit'],
  test: ['core', 'edge', 'origin', 'tools', 'dev', 'testkit', 'bench'],
};

function sourceFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', ...FOLDERS], { cwd: ROOT, encoding: 'utf8' });
  return listed
    .split('\n')
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(ROOT, f));
}

function importsOf(file: string, known: ReadonlySet<string>): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((i) => i.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')))
    .filter((target) => known.has(target));
}

function folderOf(file: string): Folder | null {
  const top = path.relative(ROOT, file).split(path.sep)[0];
  return FOLDERS.find((f) => f === top) ?? null;
}

const files = sourceFiles();
const known = new Set(files);
const graph = new Map(files.map((f) => [f, importsOf(f, known)]));

/** Strongly connected components with more than one file (or a file importing itself): the import cycles. */
function cycles(): string[][] {
  let index = 0;
  const indexes = new Map<string, number>();
  const lowlinks = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexes.set(v, index);
    lowlinks.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexes.has(w)) {
        visit(w);
        lowlinks.set(v, Math.min(lowlinks.get(v) ?? 0, lowlinks.get(w) ?? 0));
      } else if (onStack.has(w)) {
        lowlinks.set(v, Math.min(lowlinks.get(v) ?? 0, indexes.get(w) ?? 0));
      }
    }
    if (lowlinks.get(v) === indexes.get(v)) {
      const component: string[] = [];
      for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
        onStack.delete(w);
        component.push(path.relative(ROOT, w));
        if (w === v) break;
      }
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const f of files) if (!indexes.has(f)) visit(f);
  return found;
}

describe('the import graph', () => {
  it('reads a graph of the whole repository', () => {
    expect(files.length).toBeGreaterThan(100);
    expect([...graph.values()].flat().length).toBeGreaterThan(300);
  });

  it('has no import cycle', () => {
    expect(cycles()).toEqual([]);
  });

  it('has each folder import only the layers below it (tests may read anything; nothing reads tests)', () => {
    const violations: string[] = [];
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      if (from === null) continue;
      for (const target of targets) {
        const to = folderOf(target);
        if (to === null || to === from || MAY_IMPORT[from].includes(to)) continue;
        violations.push(`${path.relative(ROOT, file)} -> ${path.relative(ROOT, target)}`);
      }
    }
    expect(violations).toEqual([]);
  });
});

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import type { EnvTable } from '../../core/config/env-table.js';
import { EDGE_BINDINGS, EDGE_RATE_LIMITERS } from '../../edge/config.js';
import { ORIGIN_ENV } from '../../origin/config.js';
import { REPO_ROOT } from '../repo-root.js';

/** The README, whose configuration tables are generated from the config modules (one declaration per variable). */
export const README_PATH = path.join(REPO_ROOT, 'README.md');

function defaultOf(variable: EnvTable[string]): string {
  if (variable.defaultDoc !== undefined) return variable.defaultDoc;
  const { schema } = variable;
  const parsed = (schema as unknown as { safeParse(v: unknown): { success: boolean; data?: unknown } }).safeParse(undefined);
  if (!parsed.success) return '(required)';
  if (parsed.data === undefined) return '(optional)';
  if (parsed.data === '') return 'empty';
  return `\`${String(parsed.data)}\``;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The edge's bindings as a README table: from EDGE_BINDINGS and wrangler.toml's rate limiters. */
export function edgeTable(): string {
  const rows = Object.entries(EDGE_BINDINGS).map(
    ([name, v]) => `| \`${name}\` | ${v.kind ?? 'var'} | ${defaultOf(v)} | ${escapeCell(v.doc)} |`,
  );
  const { ratelimits } = unstable_getMiniflareWorkerOptions(path.join(REPO_ROOT, 'wrangler.toml')).workerOptions;
  for (const [name, limiter] of Object.entries(ratelimits ?? {}) as [string, { simple: { limit: number; period?: number } }][]) {
    const meaning: string | undefined = (EDGE_RATE_LIMITERS as Record<string, string>)[name];
    if (meaning === undefined) throw new Error(`wrangler.toml declares rate limiter ${name}, but edge/config.ts EDGE_RATE_LIMITERS does not say what it budgets`);
    rows.push(`| \`${name}\` | rate limiter | ${limiter.simple.limit} per ${limiter.simple.period ?? 60} s | ${escapeCell(meaning)} |`);
  }
  return ['| name | kind | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** The origin's environment as a README table, from ORIGIN_ENV. */
export function originTable(): string {
  const rows = Object.entries(ORIGIN_ENV).map(([name, v]) => `| \`${name}\` | ${defaultOf(v)} | ${escapeCell(v.doc)} |`);
  return ['| name | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

const SECTIONS = { edge: edgeTable, origin: originTable } as const;

/** `text` with every generated section (between `<!-- config:NAME -->` and `<!-- /config:NAME -->`) rendered anew. */
export function renderConfigSections(text: string): string {
  let out = text;
  for (const [name, render] of Object.entries(SECTIONS)) {
    const pattern = new RegExp(`(<!-- config:${name} -->)[\\s\\S]*?(<!-- /config:${name} -->)`);
    if (!pattern.test(out)) throw new Error(`README.md has no <!-- config:${name} --> ... <!-- /config:${name} --> section`);
    out = out.replace(pattern, (_m, open: string, close: string) => `${open}\n${render()}\n${close}`);
  }
  return out;
}

/** Rewrites the README's generated sections; returns whether anything changed. */
export async function writeConfigSections(): Promise<boolean> {
  const before = await readFile(README_PATH, 'utf8');
  const after = renderConfigSections(before);
  if (after !== before) await writeFile(README_PATH, after);
  return after !== before;
}

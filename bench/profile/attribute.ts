import { readFile } from 'node:fs/promises';
import type { CpuProfile, ProfileNode } from './cpu-profile.js';

/** Where a share of the isolate's busy time went. */
export interface AttributionRow {
  category: string;
  /** Milliseconds of samples attributed to it. */
  ms: number;
  /** Share of the isolate's busy (non-idle) time. */
  share: number;
}

/** The isolate's time under a profiled load, by category. */
export interface Attribution {
  requests: number;
  profiledMs: number;
  busyMs: number;
  rows: AttributionRow[];
}

// Modules of the unminified bundle (esbuild marks each with a `// path` comment), by what they do for a request.
// First match wins; a module not listed (a shared helper such as core/crypto) passes its samples to its caller.
const CATEGORIES: [RegExp, string][] = [
  [/^edge\/middleware\/request-log\.ts$/, 'request log line (build, hash webhook path, console.log)'],
  [/^core\/auth\/principal-jwt\.ts$/, 'principal JWT (verify, decode)'],
  [/^edge\/resolve\/canary-cookie\.ts$/, 'canary cookie (verify, sign)'],
  [/^edge\/resolve\/(resolve-platform|override|webhook-path)\.ts$/, 'platform resolution (candidates, override)'],
  [/^node_modules\/@upstash\//, 'Upstash REST client (SDK)'],
  [/^(core\/membership\/|core\/rollout\/|edge\/stores\/)/, 'membership lookup (script call, rule)'],
  [/^edge\/health\//, 'health counting'],
  [/^edge\/proxy\/|^edge\/routes\/proxy\.ts$/, 'proxy (request/response headers, fetch, stream)'],
  [/^edge\/middleware\/edge-context\.ts$/, 'request context (URL parse, private-path check)'],
  [/^node_modules\/hono\//, 'Hono (router, context, middleware chain)'],
  [/^(edge\/(app|index|services)\.ts|edge\/config\.ts|core\/config\/)/, 'app wiring (services, config)'],
];

const RUNTIME = new Map<string, string>(Object.entries({
  '(program)': 'workerd/V8 native work outside JS (I/O, HTTP, scheduling)',
  '(garbage collector)': 'garbage collection',
  '(root)': 'workerd/V8 native work outside JS (I/O, HTTP, scheduling)',
}));

/** Line index -> module path, from the `// path` comments of an unminified esbuild bundle. */
async function moduleMap(bundlePath: string): Promise<{ starts: number[]; modules: string[] }> {
  const lines = (await readFile(bundlePath, 'utf8')).split('\n');
  const starts: number[] = [];
  const modules: string[] = [];
  for (const [i, line] of lines.entries()) {
    const m = /^\/\/ ((?:edge|core|node_modules)\/\S+\.(?:ts|tsx|js|mjs|cjs))$/.exec(line);
    if (m?.[1] !== undefined) {
      starts.push(i);
      modules.push(m[1]);
    }
  }
  return { starts, modules };
}

function moduleAt(map: { starts: number[]; modules: string[] }, line: number): string | null {
  let lo = 0;
  let hi = map.starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((map.starts[mid] ?? Infinity) <= line) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? null : (map.modules[found] ?? null);
}

function categoryOf(module: string): string | null {
  for (const [pattern, category] of CATEGORIES) if (pattern.test(module)) return category;
  return null;
}

/**
 * Attributes every sample of a CPU profile of the edge to what the edge was doing: the innermost frame whose module
 * has a category (so a shared helper or a native call such as `fetch` or `crypto.subtle.verify` counts for the code
 * that called it); samples outside JS go to the runtime rows, idle samples are left out of the busy time.
 */
export async function attributeProfile(profile: CpuProfile, bundlePath: string, requests: number): Promise<Attribution> {
  const map = await moduleMap(bundlePath);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const memo = new Map<number, string>();
  const categorise = (node: ProfileNode): string => {
    const cached = memo.get(node.id);
    if (cached !== undefined) return cached;
    let result: string | null = RUNTIME.get(node.callFrame.functionName) ?? (node.callFrame.functionName === '(idle)' ? '(idle)' : null);
    for (let n: ProfileNode | undefined = node; result === null && n !== undefined; n = parent.get(n.id)) {
      if (n.callFrame.url === '') continue;
      const module = moduleAt(map, n.callFrame.lineNumber);
      result = module === null ? null : categoryOf(module);
    }
    const category = result ?? 'other JS (helpers without a category)';
    memo.set(node.id, category);
    return category;
  };
  const totals = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let profiledMs = 0;
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i] ?? -1);
    const ms = (deltas[i] ?? 0) / 1000;
    profiledMs += ms;
    if (node === undefined) continue;
    const category = categorise(node);
    totals.set(category, (totals.get(category) ?? 0) + ms);
  }
  const busyMs = profiledMs - (totals.get('(idle)') ?? 0);
  totals.delete('(idle)');
  const rows = [...totals.entries()]
    .map(([category, ms]) => ({ category, ms, share: busyMs > 0 ? ms / busyMs : 0 }))
    .sort((a, b) => b.ms - a.ms);
  return { requests, profiledMs, busyMs, rows };
}

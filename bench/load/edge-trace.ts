/** What the edge's own request log says about a stretch of load (one JSON line per request). */
export interface EdgeTraceSnapshot {
  requests: number;
  /** By `cache` field: hit, miss, negative, error, off. */
  cache: Record<string, number>;
  /** By `database` field: none, cohort, point, resolver, error. */
  database: Record<string, number>;
  /** Extra lookups spent waiting for another reader's cohort fill (each one is one more Redis round trip). */
  fillWaits: number;
  /** Requests that waited at least once. */
  waitedRequests: number;
  maxLookupMs: number;
  /** Lookup time of the requests that loaded the cohort from Postgres and installed it. */
  cohortLoadMs: number[];
  /** Requests that started a background refresh-ahead of the cohort (one cohort query and one install each). */
  refreshes: number;
}

interface RequestLine {
  msg?: unknown;
  cache?: unknown;
  database?: unknown;
  fillWaits?: unknown;
  lookupMs?: unknown;
  cacheRefresh?: unknown;
}

function bump(counts: Record<string, number>, key: unknown): void {
  if (typeof key !== 'string') return;
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Cohort loads a stretch of traffic caused: in-line reloads after a miss plus background refreshes. */
export function cohortReloads(trace: EdgeTraceSnapshot | null): number {
  return (trace?.database.cohort ?? 0) + (trace?.refreshes ?? 0);
}

/** Folds the edge's request log lines into counters that a measurement can reset and read. */
export class EdgeTrace {
  #s: EdgeTraceSnapshot = EdgeTrace.#empty();

  static #empty(): EdgeTraceSnapshot {
    return { requests: 0, cache: {}, database: {}, fillWaits: 0, waitedRequests: 0, maxLookupMs: 0, cohortLoadMs: [], refreshes: 0 };
  }

  /** Takes one log line; anything that is not a request line is ignored. */
  record(line: string): void {
    let parsed: RequestLine;
    try {
      parsed = JSON.parse(line) as RequestLine;
    } catch {
      return;
    }
    if (parsed.msg !== 'request') return;
    const s = this.#s;
    s.requests++;
    bump(s.cache, parsed.cache);
    bump(s.database, parsed.database);
    const waits = typeof parsed.fillWaits === 'number' ? parsed.fillWaits : 0;
    s.fillWaits += waits;
    if (waits > 0) s.waitedRequests++;
    const lookupMs = typeof parsed.lookupMs === 'number' ? parsed.lookupMs : 0;
    s.maxLookupMs = Math.max(s.maxLookupMs, lookupMs);
    if (parsed.database === 'cohort') s.cohortLoadMs.push(lookupMs);
    if (parsed.cacheRefresh === true) s.refreshes++;
  }

  reset(): void {
    this.#s = EdgeTrace.#empty();
  }

  snapshot(): EdgeTraceSnapshot {
    return { ...this.#s, cache: { ...this.#s.cache }, database: { ...this.#s.database }, cohortLoadMs: [...this.#s.cohortLoadMs] };
  }
}

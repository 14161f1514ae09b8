import type { BenchTopology } from './bench-topology.js';

/** One admin call to the bench's edge; throws unless it answers 200, returns the JSON answer. */
export async function edgeAdmin<T = Record<string, unknown>>(t: Pick<BenchTopology, 'edge' | 'apiKey'>, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${t.edge.url}${path}`, {
    method,
    headers: { 'api-key': t.apiKey, 'content-type': 'application/json', 'x-canary-actor': 'bench' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`edge ${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

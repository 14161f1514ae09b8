import type { IncomingMessage, ServerResponse } from 'node:http';

/** Outcome of reading a JSON request body. */
export type BodyRead = { ok: true; value: unknown } | { ok: false; status: 400 | 413; error: string };

/**
 * Reads and parses a JSON body of at most `limit` bytes. An oversized body is drained rather than cut off, so the
 * client reads a 413 instead of a reset connection.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    let tooLarge = declared > limit;
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (tooLarge) {
        resolve({ ok: false, status: 413, error: `ERR request body exceeds the local endpoint's ${limit} byte limit` });
        return;
      }
      const text = Buffer.concat(chunks, size).toString('utf8');
      try {
        resolve({ ok: true, value: JSON.parse(text) as unknown });
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        resolve({ ok: false, status: 400, error: `ERR request body is not valid JSON: ${reason}` });
      }
    });
  });
}

/** Writes a JSON response unless the client is already gone (e.g. the endpoint was closed mid-request). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
    ...headers,
  });
  res.end(payload);
}

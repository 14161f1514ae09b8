import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** Writes a JSON answer with the headers every Neon SQL response carries; a no-op once the client has gone. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    'Access-Control-Allow-Origin': '*',
    'Neon-Request-Id': randomUUID(),
    ...headers,
  });
  res.end(text);
}

import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { patternChunk } from '../../testkit/echo-origin.js';

export interface TransferResult {
  bytes: number;
  seconds: number;
  /** The far end saw (upload) or sent (download) exactly the expected bytes. */
  verified: boolean;
  detail: string;
}

const BLOCK = randomBytes(1024 * 1024);
const TRANSFER_TIMEOUT_MS = 300_000;

/** sha256 of `BLOCK` repeated `blocks` times: what the origin must report for an upload. */
export function expectedUploadSha256(blocks: number): string {
  const hash = createHash('sha256');
  for (let i = 0; i < blocks; i++) hash.update(BLOCK);
  return hash.digest('hex');
}

/**
 * Streams `blocks` MiB to `<base>/__bytes/up` (the echo origin answers the size and sha256 it received), honouring
 * backpressure, so the client never holds more than a block.
 */
export function upload(base: string, headers: Record<string, string>, blocks: number, expectedSha256: string): Promise<TransferResult> {
  const total = blocks * BLOCK.length;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(`${base}/__bytes/up`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(total) },
      timeout: TRANSFER_TIMEOUT_MS,
    });
    req.once('timeout', () => req.destroy(new Error(`upload timed out after ${TRANSFER_TIMEOUT_MS} ms`)));
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', reject);
      res.once('end', () => {
        const seconds = (performance.now() - started) / 1000;
        const text = Buffer.concat(chunks).toString('utf8');
        let body: { bytes?: number; sha256?: string } = {};
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          // Reported through `detail` below.
        }
        const verified = res.statusCode === 200 && body.bytes === total && body.sha256 === expectedSha256;
        resolve({ bytes: total, seconds, verified, detail: verified ? 'size and sha256 match' : `status ${res.statusCode}: ${text.slice(0, 200)}` });
      });
    });
    let sent = 0;
    const pump = (): void => {
      while (sent < blocks) {
        sent++;
        if (!req.write(BLOCK)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** Reads `bytes` pattern bytes from `<base>/__bytes/down?n=`, counting them and checking the first chunk's pattern. */
export function download(base: string, headers: Record<string, string>, bytes: number): Promise<TransferResult> {
  const head = patternChunk(0, 64 * 1024);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(`${base}/__bytes/down?n=${bytes}`, { headers, timeout: TRANSFER_TIMEOUT_MS }, (res) => {
      let received = 0;
      const first: Buffer[] = [];
      let firstBytes = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (firstBytes < head.length) {
          first.push(chunk);
          firstBytes += chunk.length;
        }
      });
      res.once('error', reject);
      res.once('end', () => {
        const seconds = (performance.now() - started) / 1000;
        const headOk = Buffer.concat(first).subarray(0, head.length).equals(head);
        const verified = res.statusCode === 200 && received === bytes && headOk;
        resolve({ bytes, seconds, verified, detail: verified ? 'size and pattern match' : `status ${res.statusCode}, ${received} bytes, head ${headOk ? 'ok' : 'wrong'}` });
      });
    });
    req.once('timeout', () => req.destroy(new Error(`download timed out after ${TRANSFER_TIMEOUT_MS} ms`)));
    req.once('error', reject);
  });
}

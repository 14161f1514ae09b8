import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

/** One canned answer: an HTTP status (default 200) and a body (JSON-encoded unless a string). */
export interface FakeGraphqlAnswer {
  status?: number;
  body: unknown;
}

/** One request the fake received. */
export interface FakeGraphqlRequest {
  method: string;
  path: string;
  authorization: string;
  /** The parsed JSON body (`{ query, variables }` for a GraphQL call). */
  body: unknown;
}

/** A local stand-in for Cloudflare's API, for CLOUDFLARE_API_BASE_URL. */
export interface FakeGraphql {
  /** `http://127.0.0.1:<port>/client/v4`, what CLOUDFLARE_API_BASE_URL is set to. */
  baseUrl: string;
  requests(): FakeGraphqlRequest[];
  close(): Promise<void>;
}

/** A GraphQL Analytics answer holding one workersInvocationsAdaptive row per `[version, requests, errors]`. */
export function invocationsAnswer(rows: ReadonlyArray<readonly [string, number, number]>): unknown {
  return {
    data: {
      viewer: {
        accounts: [{
          workersInvocationsAdaptive: rows.map(([scriptVersion, requests, errors]) => ({ sum: { requests, errors }, dimensions: { scriptVersion } })),
        }],
      },
    },
    errors: null,
  };
}

/**
 * Starts an HTTP server on 127.0.0.1 (a free port) that answers each POST to /client/v4/graphql with the next canned
 * answer, in order, and records what it was asked; past the last answer it fails with 500, so an unexpected call shows.
 */
export async function startFakeGraphql(answers: readonly FakeGraphqlAnswer[]): Promise<FakeGraphql> {
  const received: FakeGraphqlRequest[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Recorded as text; the assertions say what was expected.
      }
      received.push({ method: request.method ?? '', path: request.url ?? '', authorization: request.headers.authorization ?? '', body });
      const answer = request.url === '/client/v4/graphql' ? answers[received.length - 1] : undefined;
      const status = answer?.status ?? (answer === undefined ? 500 : 200);
      const payload = answer === undefined ? `fake GraphQL: no canned answer for request ${received.length} to ${request.url ?? ''}` : answer.body;
      response.writeHead(status, { 'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json' });
      response.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/client/v4`,
    requests: () => [...received],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Returns a `startFakeGraphql` whose servers are closed after each test. Call inside a describe. */
export function useFakeGraphql(): typeof startFakeGraphql {
  const started: FakeGraphql[] = [];
  afterEach(async () => {
    for (const fake of started.splice(0)) await fake.close();
  });
  return async (answers) => {
    const fake = await startFakeGraphql(answers);
    started.push(fake);
    return fake;
  };
}

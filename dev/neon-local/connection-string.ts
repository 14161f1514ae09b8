import { NeonHttpError, messageOf } from './neon-error.js';

/** The Postgres server, database and role one request runs against. */
export interface PgTarget {
  /** The header as sent: pools are kept per distinct connection string. */
  connectionString: string;
  host: string;
  port: number;
  database: string;
  user: string;
  password: string | undefined;
  applicationName: string | undefined;
}

const DEFAULT_PG_PORT = 5432;

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new NeonHttpError(400, `invalid ${what}`);
  }
}

/**
 * Reads the `Neon-Connection-String` header the way Neon's proxy does, with its messages for what it rejects.
 * Unlike Neon a password is optional (local Postgres uses trust auth), and `sslmode` and friends are ignored because
 * they describe the client's hop to Neon, not the proxy's hop to Postgres.
 */
export function parseConnectionString(header: string | undefined): PgTarget {
  if (header === undefined || header === '') throw new NeonHttpError(400, 'invalid header: neon-connection-string');
  let url: URL;
  try {
    url = new URL(header);
  } catch (error) {
    throw new NeonHttpError(400, `invalid connection string: ${messageOf(error)}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new NeonHttpError(400, 'incorrect scheme');

  const database = decode(url.pathname.replace(/^\//, '').split('/')[0] ?? '', 'database name');
  if (database === '') throw new NeonHttpError(400, 'missing database name');
  const user = decode(url.username, 'username');
  if (user === '') throw new NeonHttpError(400, 'missing username');
  // WHATWG URL keeps IPv6 literals bracketed; node-postgres wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new NeonHttpError(400, 'missing hostname');

  return {
    connectionString: header,
    host,
    port: url.port === '' ? DEFAULT_PG_PORT : Number(url.port),
    database,
    user,
    password: url.password === '' ? undefined : decode(url.password, 'password'),
    applicationName: url.searchParams.get('application_name') ?? undefined,
  };
}

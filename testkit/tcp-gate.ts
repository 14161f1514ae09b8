import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A loopback TCP proxy that can hold what clients send (bytes and FIN) until released: a slow link, on demand. */
export interface TcpGate {
  port: number;
  /** From now on, bytes and end-of-stream from clients wait in the gate. */
  hold(): void;
  /** Forwards everything held, and everything after. */
  release(): void;
  close(): Promise<void>;
}

/** Starts a gate in front of `target` on an ephemeral port. */
export async function startTcpGate(target: { host: string; port: number }): Promise<TcpGate> {
  let holding = false;
  const waiting: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const whenOpen = (fn: () => void): void => {
    if (holding) waiting.push(fn);
    else fn();
  };
  // Half-open: a client's FIN must not make the gate close its side towards that client on its own.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ port: target.port, host: target.host, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.on('data', (chunk) => whenOpen(() => upstream.write(chunk)));
    client.on('end', () => whenOpen(() => upstream.end()));
    upstream.on('data', (chunk) => client.write(chunk));
    upstream.on('end', () => client.end());
    client.on('close', () => whenOpen(() => upstream.destroy()));
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const fn of waiting.splice(0)) fn();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

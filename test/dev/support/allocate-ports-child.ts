import net from 'node:net';
import { allocatePort } from '../../../dev/ports/port-allocator.js';

// A worker of the allocator test: allocates COUNT ports (CONCURRENCY calls in flight at a time), binds each one the
// moment it is handed out and keeps it bound until the parent says stop, then prints what it got as one JSON line.
// A number handed to two workers would fail the second worker's bind.

const count = Number(process.env.COUNT ?? '1000');
const concurrency = Number(process.env.CONCURRENCY ?? '8');
const servers: net.Server[] = [];
const ports: number[] = [];
const bindFailures: string[] = [];

async function bindNow(port: number): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      bindFailures.push(`${port}: ${error.code ?? error.message}`);
      resolve();
    });
    server.listen(port, '127.0.0.1', () => {
      servers.push(server);
      resolve();
    });
  });
}

async function lane(): Promise<void> {
  while (ports.length < count) {
    const port = await allocatePort();
    ports.push(port);
    await bindNow(port);
  }
}

await Promise.all(Array.from({ length: concurrency }, () => lane()));
process.stdout.write(`${JSON.stringify({ pid: process.pid, ports, bindFailures })}\n`);
// Hold every port until the parent has every worker's list (it closes stdin), so no bind of another worker could
// have succeeded on one of them meanwhile.
process.stdin.resume();
process.stdin.once('end', () => {
  for (const server of servers) server.close();
  process.exit(0);
});

import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { allocatePort, allocatePorts, allocatorRange, claimedPorts, releasePort } from '../../dev/ports/port-allocator.js';
import { describePort, portHolder } from '../../dev/ports/port-holder.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface WorkerReport {
  pid: number;
  ports: number[];
  bindFailures: string[];
}

/** Starts allocator workers as Vitest runs test files: separate processes, all at once. */
function startWorkers(workers: number, count: number): { reports: Promise<WorkerReport[]>; release(): Promise<void> } {
  const children = Array.from({ length: workers }, () =>
    spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/dev/support/allocate-ports-child.ts')], {
      cwd: ROOT,
      env: { ...process.env, COUNT: String(count), CONCURRENCY: '8' },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const exits = children.map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
  const reports = Promise.all(
    children.map(
      (child) =>
        new Promise<WorkerReport>((resolve, reject) => {
          createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as WorkerReport));
          child.once('exit', (code) => reject(new Error(`allocator worker exited (${String(code)}) before reporting`)));
        }),
    ),
  );
  return {
    reports,
    async release() {
      for (const child of children) child.stdin.end();
      await Promise.all(exits);
    },
  };
}

describe('the port allocator', () => {
  it('hands 4 concurrent processes 1,000 ports each, all distinct, each bindable when handed out', async () => {
    const workers = startWorkers(4, 1_000);
    try {
      const reports = await workers.reports;
      const all = reports.flatMap((r) => r.ports);
      expect(reports.map((r) => r.bindFailures)).toEqual([[], [], [], []]);
      expect(all.length).toBeGreaterThanOrEqual(4_000);
      expect(new Set(all).size).toBe(all.length);
      const { low, high } = allocatorRange();
      expect(all.every((p) => p >= low && p <= high)).toBe(true);
    } finally {
      await workers.release();
    }
  }, 60_000);

  it('never hands this process a number twice, however many calls are in flight', async () => {
    const ports = await Promise.all(Array.from({ length: 300 }, () => allocatePort()));
    expect(new Set(ports).size).toBe(300);
    expect(claimedPorts()).toEqual(expect.arrayContaining(ports));
    for (const port of ports) releasePort(port);
    expect(claimedPorts()).not.toEqual(expect.arrayContaining([ports[0]]));
  });

  it('takes its numbers from below the kernel\'s ephemeral range, where no listen(0) or outgoing connection lands', async () => {
    const { low, high } = allocatorRange();
    const ephemeralLow = Number((await import('node:fs')).readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    expect(high).toBeLessThan(ephemeralLow);
    expect(low).toBeGreaterThanOrEqual(10_000);
    const [a, b] = await allocatePorts(2);
    expect([a, b].every((p) => p !== undefined && p >= low && p <= high)).toBe(true);
  });

  it('skips a number another process has claimed, and hands it out once that process is gone', async () => {
    const workers = startWorkers(1, 50);
    const [report] = await workers.reports;
    const theirs = new Set(report?.ports ?? []);
    const mine = await allocatePorts(500);
    expect(mine.filter((p) => theirs.has(p))).toEqual([]);
    for (const port of mine) releasePort(port);
    await workers.release();
    // Their claims died with them: each of their numbers can be bound (and claimed) again.
    const server = net.createServer();
    const one = [...theirs][0] ?? 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(one, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }, 60_000);

  it('names who holds a port, for failure messages', async () => {
    const port = await allocatePort();
    expect(portHolder(port)).toBeNull();
    expect(describePort(port)).toBe(`port ${port} (no listener found now)`);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    try {
      expect(portHolder(port)).toMatch(new RegExp(`^pid ${process.pid} \\(.*node`));
      expect(describePort(port)).toContain(`held by pid ${process.pid}`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      releasePort(port);
    }
  });
});

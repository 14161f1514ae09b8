import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { REPO_ROOT } from '../../dev/repo-root.js';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  versions: Record<string, string>;
}

async function packageVersion(name: string): Promise<string> {
  try {
    const raw = await readFile(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8');
    return (JSON.parse(raw) as { version?: string }).version ?? '?';
  } catch {
    return 'not installed';
  }
}

/** The machine and software a run measured on (nproc, memory, Node, workerd and friends). */
export async function machineInfo(redis: Redis, pool: pg.Pool): Promise<MachineInfo> {
  const versions: Record<string, string> = {};
  for (const name of ['workerd', 'miniflare', 'hono', 'autocannon', 'fastify', '@fastify/reply-from', 'ioredis', 'pg']) {
    versions[name] = await packageVersion(name);
  }
  versions.redis = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  versions.postgres = (await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?';
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: os.totalmem() / 1024 ** 3,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    versions,
  };
}

/** One markdown line describing the machine. */
export function machineLine(m: MachineInfo): string {
  const v = Object.entries(m.versions).map(([k, val]) => `${k} ${val}`).join(', ');
  return `${m.cpus} CPUs (\`nproc\`; ${m.cpuModel}), ${m.memoryGiB.toFixed(1)} GiB RAM, ${m.kernel}, Node ${m.node}; ${v}.`;
}

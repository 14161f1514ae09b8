import type pg from 'pg';
import { seedFlow, seedPlatform } from '../dev/seed/seed-data.js';

/** A seeded platform with one project and one flow. */
export interface SeededPlatform {
  platformId: string;
  projectId: string;
  flowId: string;
  canary: boolean;
}

/**
 * Inserts platforms (with plan, project and flow), with random ids unless `id` is given; `definition` null means
 * "echo the payload".
 */
export async function seedPlatforms(pool: pg.Pool, specs: readonly { id?: string; canary: boolean; definition?: unknown }[]): Promise<SeededPlatform[]> {
  const seeded: SeededPlatform[] = [];
  for (const spec of specs) {
    const platformId = await seedPlatform(pool, { id: spec.id, canary: spec.canary });
    const { flowId, projectId } = await seedFlow(pool, platformId, { definition: spec.definition });
    seeded.push({ platformId, projectId, flowId, canary: spec.canary });
  }
  return seeded;
}

/** Random secrets and Socket.IO key for one test topology. */
export function randomSecrets(): { jwtSecret: string; apiKey: string; workerSecret: string; socketIoRedisKey: string } {
  return {
    jwtSecret: crypto.randomUUID(),
    apiKey: `ak_${crypto.randomUUID()}`,
    workerSecret: `ws_${crypto.randomUUID()}`,
    socketIoRedisKey: `socket.io-test-${crypto.randomUUID().slice(0, 8)}`,
  };
}

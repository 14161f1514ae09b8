import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../origin/config.js';

const base = {
  AP_CONTAINER_TYPE: 'APP',
  AP_VERSION: '1.2.3',
  AP_REDIS_URL: 'redis://127.0.0.1:6379',
  AP_POSTGRES_URL: 'postgres://postgres@127.0.0.1:5432/x',
  AP_JWT_SECRET: 'secret',
  AP_API_KEY: 'key',
  AP_WORKER_SECRET: 'worker-secret-0123456789',
};

describe('loadConfig', () => {
  it('parses the contract variables with defaults for the rest', () => {
    const config = loadConfig({ ...base, AP_PORT: '3001' });
    expect(config).toMatchObject({ containerType: 'APP', version: '1.2.3', port: 3001, isCanaryWorker: false, socketIoRedisKey: 'socket.io' });
  });

  it('names every missing variable', () => {
    expect(() => loadConfig({ AP_CONTAINER_TYPE: 'APP' })).toThrow(/AP_VERSION is required.*AP_REDIS_URL is required/);
  });

  it('names an invalid variable', () => {
    expect(() => loadConfig({ ...base, AP_CONTAINER_TYPE: 'BOTH' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, AP_PORT: 'eighty' })).toThrow(/AP_PORT is invalid/);
  });

  it('requires AP_FRONTEND_URL for a worker and reads AP_IS_CANARY_WORKER', () => {
    expect(() => loadConfig({ ...base, AP_CONTAINER_TYPE: 'WORKER' })).toThrow(/AP_FRONTEND_URL/);
    const config = loadConfig({ ...base, AP_CONTAINER_TYPE: 'WORKER', AP_FRONTEND_URL: 'http://app:3000', AP_IS_CANARY_WORKER: 'true' });
    expect(config.isCanaryWorker).toBe(true);
  });

  it('requires AP_WORKER_SECRET, and refuses one equal to the admin key', () => {
    const { AP_WORKER_SECRET: _omitted, ...withoutSecret } = base;
    expect(() => loadConfig(withoutSecret)).toThrow(/AP_WORKER_SECRET is required/);
    expect(() => loadConfig({ ...base, AP_WORKER_SECRET: 'short' })).toThrow(/AP_WORKER_SECRET is invalid/);
    expect(() => loadConfig({ ...base, AP_API_KEY: base.AP_WORKER_SECRET })).toThrow(/AP_WORKER_SECRET must differ from AP_API_KEY/);
    const { AP_API_KEY: _key, ...withoutAdminKey } = base;
    expect(loadConfig(withoutAdminKey)).toMatchObject({ apiKey: undefined, workerSecret: base.AP_WORKER_SECRET });
  });

  it('paces socket handovers at 50 a second unless SOCKET_HANDOVER_RATE says otherwise (a positive whole number)', () => {
    expect(loadConfig(base).socketHandoverRate).toBe(50);
    expect(loadConfig({ ...base, SOCKET_HANDOVER_RATE: '40' }).socketHandoverRate).toBe(40);
    for (const bad of ['0', '-5', '2.5', 'fast']) expect(() => loadConfig({ ...base, SOCKET_HANDOVER_RATE: bad })).toThrow(/SOCKET_HANDOVER_RATE is invalid/);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ ...base, AP_PORT: '' }).port).toBe(3000);
  });
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real processes (workerd, origins, endpoints) and share one Redis and one Postgres
    // server; running files one at a time keeps ports, CPU (2 cores) and timings predictable.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['testkit/global-setup.ts'],
  },
});

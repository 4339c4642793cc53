import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // 10-minute live tests: `npm run test:idle` (vitest.live.config.ts); CI runs them once, in parallel.
    exclude: ['**/node_modules/**', 'test/live/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});

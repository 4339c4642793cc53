import { defineConfig } from 'vitest/config';

/** Long-running live tests (`npm run test:idle`), excluded from `npm test`. */
export default defineConfig({
  test: {
    include: ['test/live/**/*.test.ts'],
    testTimeout: 15 * 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    reporters: ['default'],
  },
});

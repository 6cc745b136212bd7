import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'agent/**/*.test.ts',
            'api/**/*.test.ts',
            'common/**/*.test.ts',
            'test/unit/**/*.test.ts',
            'web/**/*.test.ts',
          ],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          // rtc-node logs at debug level unless NODE_ENV is production; the callers' logs are noise.
          env: { NODE_ENV: 'production' },
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/build.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          pool: 'forks',
          // One stack at a time: the e2e files share this two-core machine.
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});

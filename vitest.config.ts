import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the real test peers once (npm run tools) before any test file runs.
    globalSetup: ['test/harness/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests that start real parts (registry, buildah, trivy) take seconds; nothing is retried.
    retry: 0,
    server: { deps: { inline: [/@actions\/workflow-parser/, /@actions\/expressions/] } },
  },
});

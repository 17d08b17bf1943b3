import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the real test peers once (npm run tools) before any test file runs.
    globalSetup: ['test/harness/global-setup.ts'],
    pool: 'forks',
    // Three files at a time on a 2-core machine: many files spend their time waiting on servers,
    // clients' retry back-offs and rehearsed jobs, not on the CPU (measured: 2 workers kept the CPU
    // 78 % busy). HALLMARK_TEST_WORKERS overrides it.
    maxWorkers: Number(process.env.HALLMARK_TEST_WORKERS) || 3,
    // A rehearsal test runs whole workflows (every job with its tools, the audit job): about 15–30 s
    // here with 3 workers, up to 60 s when the machine is shared, so the bound leaves room.
    testTimeout: 150_000,
    hookTimeout: 120_000,
    // Tests that start real parts (registry, buildah, trivy) take seconds; nothing is retried.
    retry: 0,
    server: { deps: { inline: [/@actions\/workflow-parser/, /@actions\/expressions/] } },
  },
});

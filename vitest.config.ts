import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests build dist/ once: the agents they start run the compiled code.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    // GitHub's workflow parser imports its JSON schema without an import attribute, which Node refuses; Vite's transform reads it.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});

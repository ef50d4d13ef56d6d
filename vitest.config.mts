import { defineConfig } from 'vitest/config';

// Unit tests of the UI's pure decisions; the browser tests cover the wiring.
export default defineConfig({
  test: {
    include: ['tests/ts/**/*.test.ts'],
    environment: 'node'
  }
});

import { defineConfig } from 'vitest/config';

/** The suites that need root, network namespaces and real peers (QEMU, dhclient, atftp...): npm run test:e2e. */
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    globalSetup: ['tests/e2e/support/e2e-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
    // Suites boot VMs and bind fixed ports inside their namespaces; one file at a time keeps CPU for QEMU.
    fileParallelism: false,
  },
});

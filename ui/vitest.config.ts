import preact from '@preact/preset-vite';
import { defineConfig } from 'vitest/config';

/** The dashboard's component tests: happy-dom, no server (fetch is stubbed per test). `npx vitest run --config ui/vitest.config.ts` */
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  plugins: [preact()],
  test: {
    include: ['test/**/*.test.tsx'],
    environment: 'happy-dom',
    testTimeout: 10_000,
  },
});

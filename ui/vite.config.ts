import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

/** The dashboard builds into ui/dist, which `brume serve` serves at /. `npm run dev:ui` proxies the API to a running server. */
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  plugins: [preact()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});

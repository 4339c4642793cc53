import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The browser app. Built into web/dist and served by Mailroom itself (src/app/web.ts).
 * The built index.html carries no inline script, so the page runs under `script-src 'self'`.
 */
export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // The module preload polyfill is bundled into the entry chunk, never inlined into the HTML.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 800,
  },
  server: {
    // `npx vite --config web/vite.config.ts` during development, with the API on :3000.
    proxy: { '/api': 'http://127.0.0.1:3000' },
    // The app imports pure modules from ../src/shared (fonts, the HTML allow-list): the dev server's
    // default fs.allow is the package root (where package.json is), which includes them.
  },
});

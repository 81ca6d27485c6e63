import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console: Preact through esbuild's automatic JSX runtime (no Babel preset), built into
// dist/web, which the gateway serves at `/`. Everything is bundled: nothing is fetched from a CDN.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // The CSP allows no inline script: keep Vite's module preload polyfill out of index.html.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 300,
    sourcemap: false,
  },
  logLevel: 'warn',
});

// The web console's build: `npm run build:console` (part of `npm run build`) writes dist/console,
// which the main job serves at / (api/graphql/console.ts). No plugin: Vite compiles the TSX itself.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // The modern browsers the console is for; no polyfills.
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
    modulePreload: { polyfill: false },
  },
});

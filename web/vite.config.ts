import { defineConfig } from 'vitest/config';

// Where `npm run dev` forwards API calls: a `paddlecloud server` started by hand.
const devBackend = process.env.PADDLECLOUD_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  // Preact's automatic JSX runtime (no Babel plugin needed).
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Never inline assets as data: URIs, so the server's strict CSP needs no exceptions.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': devBackend,
      '/healthz': devBackend,
      '/readyz': devBackend,
    },
  },
  test: {
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'happy-dom',
    restoreMocks: true,
  },
});

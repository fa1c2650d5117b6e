/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

const lib = fileURLToPath(new URL('./src/lib', import.meta.url));

// Tauri embeds ui/dist (no devUrl), so assets must resolve relative to index.html.
export default defineConfig({
  base: './',
  plugins: [svelte(), svelteTesting()],
  resolve: {
    alias: { $lib: lib },
  },
  clearScreen: false,
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['./src/test/setup.ts'],
    mockReset: true,
  },
});

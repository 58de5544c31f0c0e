/// <reference types="vitest/config" />
// Vite builds the client into dist/ (served by `tierboard serve --static-dir client/dist`);
// in development it proxies the API and the WebSocket to a local server on :8080.
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

const server = process.env.TIERBOARD_DEV_SERVER ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': { target: server, changeOrigin: false },
      '/healthz': { target: server },
      '/ws': { target: server.replace(/^http/, 'ws'), ws: true },
    },
  },
  build: {
    outDir: 'dist',
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['./vitest.setup.ts'],
  },
})

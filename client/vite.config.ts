/// <reference types="vitest/config" />
// Vite builds the client into dist/ (served by `tierboard serve --static-dir client/dist`);
// in development it proxies the API and the WebSocket to a local server on :8080.
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { defineConfig, type Plugin } from 'vite'
import react from '@vitejs/plugin-react'

/**
 * Writes `<file>.br` and `<file>.gz` beside every text file of the build worth compressing, at the
 * highest levels (done once here, not per request): the server sends them to browsers that accept
 * them (issue 24, item 10).
 */
function precompress(): Plugin {
  return {
    name: 'tierboard-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      const dir = options.dir ?? 'dist'
      const files = [...Object.keys(bundle), 'index.html'].filter((f, i, all) => all.indexOf(f) === i)
      for (const name of files) {
        if (!/\.(js|css|html|svg|json|txt)$/.test(name)) continue // not source maps: only devtools read them
        const file = path.join(dir, name)
        let data: Buffer
        try {
          data = readFileSync(file)
        } catch {
          continue
        }
        if (data.length < 1024) continue
        const br = brotliCompressSync(data, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
        })
        const gz = gzipSync(data, { level: 9 })
        if (br.length < data.length) writeFileSync(`${file}.br`, br)
        if (gz.length < data.length) writeFileSync(`${file}.gz`, gz)
      }
    },
  }
}

const server = process.env.TIERBOARD_DEV_SERVER ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [react(), precompress()],
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

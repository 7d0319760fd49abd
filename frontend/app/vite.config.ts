import { defineConfig } from 'vite'
import { wayfareServer } from './server.ts'

export default defineConfig({
  plugins: [wayfareServer()],
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 5173, strictPort: true },
  build: { outDir: 'dist', sourcemap: false, reportCompressedSize: false, chunkSizeWarningLimit: 500 },
})

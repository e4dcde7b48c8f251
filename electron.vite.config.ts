import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';

/**
 * main: the Electron main process, the lab process it forks under plain Node, and the training and analysis hosts
 * (each src/hosts/<process>/entry.ts) and the gradient helper thread (out/main/index.js, labProcess.js, host.js,
 * analysisHost.js, gradientWorker.js: src/hosts/launch.ts names them for the code that starts them).
 * preload: CommonJS and fully bundled, as a sandboxed preload must be (out/preload/index.cjs).
 * renderer: the Vue app (out/renderer), which the web server also serves.
 */
export default defineConfig({
  main: {
    build: {
      rolldownOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          labProcess: resolve('src/hosts/lab/entry.ts'),
          host: resolve('src/hosts/training/entry.ts'),
          analysisHost: resolve('src/hosts/analysis/entry.ts'),
          gradientWorker: resolve('src/hosts/gradientThreads/entry.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('src/renderer'),
    plugins: [vue()],
    build: {
      minify: true,
      rolldownOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
  },
});

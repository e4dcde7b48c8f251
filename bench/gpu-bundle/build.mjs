#!/usr/bin/env node
/**
 * `npm run gpu-bundle [-- --out dir] [--level 0-9]`: a GPU check for a machine with a GPU but no package registry. Writes one folder
 * (default gpu-bundle/, git-ignored) holding run.sh and payload.tar.xz: this Node binary, the throughput bench and
 * its gradient worker bundled by esbuild into one file each, tfjs's wasm files, Dawn's linux-x64 binary (npm
 * `webgpu`), the PyTorch reference script, libvulkan.so.1 for machines without a Vulkan loader, and the BLAS addon
 * (native/blas) with this machine's OpenBLAS and the libraries it needs, for machines without one. run.sh unpacks
 * it, finds the GPU's Vulkan driver and prints the bench's JSON (see run.sh). Linux x64 only: Dawn's binary and
 * Node's are this machine's.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const MAX_BYTES = 60 * 2 ** 20;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// --level: xz preset (default 9, the smallest; 1 builds in seconds, for trying the bundle out).
const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'gpu-bundle') }, level: { type: 'string', default: '9' } } });
if (!/^[0-9]$/.test(values.level)) throw new Error(`gpu-bundle: --level must be 0–9, got ${JSON.stringify(values.level)}`);
const out = resolve(values.out);

if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`gpu-bundle: builds on linux-x64 only (this is ${process.platform}-${process.arch})`);
const dawn = join(root, 'node_modules/webgpu/dist/linux-x64/dawn.node');
if (!existsSync(dawn)) throw new Error(`gpu-bundle: ${dawn} is missing; install the optional dependency \`webgpu\``);
const vulkanLoader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].find(existsSync);
const blasAddon = join(root, 'native/blas/build/Release/gpt_lab_blas.node');
// OpenBLAS and what it links (ldd: libgfortran, libquadmath, libgomp), copied only where all are found.
const blasLibs = ['libopenblas.so.0', 'libgfortran.so.5', 'libquadmath.so.0', 'libgomp.so.1'].map((name) => join('/usr/lib/x86_64-linux-gnu', name));
const withBlas = existsSync(blasAddon) && blasLibs.every(existsSync);

const stage = mkdtempSync(join(tmpdir(), 'gpt-lab-gpu-bundle-'));
try {
  // The bench and the gradient worker (src/lab/parallel) as single ES modules; webgpu stays a package beside them
  // (it loads dawn.node relative to itself), the CUDA/native tfjs packages stay absent (the ladder notes them).
  await build({
    entryPoints: { bench: join(root, 'bench/throughput.ts'), gradientWorker: join(root, 'src/hosts/gradientThreads/entry.ts') },
    outdir: stage,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
    // Bundled CommonJS (tfjs-backend-wasm's Emscripten glue) uses require() and finds its .wasm files through
    // __dirname; ESM output has neither, so they are defined for the bundle's own folder.
    banner: {
      js: [
        "import { createRequire as __gptLabRequire } from 'node:module';",
        "import { dirname as __gptLabDirname } from 'node:path';",
        "import { fileURLToPath as __gptLabPath } from 'node:url';",
        'const require = __gptLabRequire(import.meta.url);',
        'const __filename = __gptLabPath(import.meta.url);',
        'const __dirname = __gptLabDirname(__filename);',
      ].join('\n'),
    },
    logLevel: 'warning',
  });
  for (const name of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'])
    copyFileSync(join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist', name), join(stage, name));
  copyFileSync(join(root, 'bench/torch_reference.py'), join(stage, 'torch_reference.py'));
  const webgpu = join(stage, 'node_modules/webgpu');
  mkdirSync(join(webgpu, 'dist/linux-x64'), { recursive: true });
  for (const name of ['package.json', 'index.js', 'LICENSE.md']) copyFileSync(join(root, 'node_modules/webgpu', name), join(webgpu, name));
  copyFileSync(dawn, join(webgpu, 'dist/linux-x64/dawn.node'));
  if (vulkanLoader) {
    mkdirSync(join(stage, 'lib'));
    copyFileSync(vulkanLoader, join(stage, 'lib/libvulkan.so.1'));
  }
  if (withBlas) {
    mkdirSync(join(stage, 'blas'));
    copyFileSync(blasAddon, join(stage, 'blas/gpt_lab_blas.node'));
    for (const lib of blasLibs) copyFileSync(lib, join(stage, 'blas', lib.split('/').at(-1)));
  }
  copyFileSync(process.execPath, join(stage, 'node'));
  writeFileSync(join(stage, 'VERSION'), `gpt-lab gpu-bundle, node ${process.version}, built ${new Date().toISOString()}\n`);

  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  execFileSync('tar', ['-cJf', join(out, 'payload.tar.xz'), '-C', stage, '.'], { env: { ...process.env, XZ_OPT: `-${values.level} -T1` }, stdio: 'inherit' });
  copyFileSync(join(root, 'bench/gpu-bundle/run.sh'), join(out, 'run.sh'));
  execFileSync('chmod', ['+x', join(out, 'run.sh')]);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

const bytes = ['payload.tar.xz', 'run.sh'].reduce((sum, name) => sum + statSync(join(out, name)).size, 0);
console.log(
  `gpu-bundle: ${out} (${(bytes / 2 ** 20).toFixed(1)} MiB)${vulkanLoader ? '' : '; no libvulkan.so.1 here to include'}${withBlas ? '' : '; no BLAS addon or OpenBLAS here to include (wasm on XNNPACK)'}`,
);
if (bytes > MAX_BYTES) throw new Error(`gpu-bundle: ${(bytes / 2 ** 20).toFixed(1)} MiB is over the ${MAX_BYTES / 2 ** 20} MiB limit`);

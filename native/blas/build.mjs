// `npm install` runs this (the root package's postinstall): builds the BLAS matmul addon (gemm.c) with node-gyp.
// It needs only a C compiler and Node's headers, never a download of its own. It is optional: when the build fails
// (no compiler) or GPT_LAB_BLAS=off, it says so in one line and the install goes on; training then keeps tfjs's own
// wasm kernels. Whether a BLAS library is present is decided at run time (src/engine/model/nativeGemm.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    return existsSync(bundled) ? bundled : null;
  }
}

/** Node's own headers when they are installed beside it (Debian, Homebrew, the official tarballs): no download. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

function skip(why) {
  process.stderr.write(`gpt-lab: the BLAS matmul addon was not built (${why}); training uses tfjs's own wasm kernels\n`);
}

if (/^(0|off|false)$/i.test(process.env.GPT_LAB_BLAS ?? '')) {
  skip(`GPT_LAB_BLAS=${process.env.GPT_LAB_BLAS}`);
} else {
  const gyp = nodeGyp();
  if (!gyp) skip('node-gyp not found');
  else {
    const result = spawnSync(process.execPath, [gyp, 'rebuild', ...(nodeDir() ? [`--nodedir=${nodeDir()}`] : [])], { cwd: here, encoding: 'utf8' });
    if (result.status !== 0) {
      const lines = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n');
      skip(`node-gyp failed: ${lines.filter((l) => /error/i.test(l)).slice(0, 2).join(' | ') || lines.slice(-1)[0] || result.error?.message}`);
    }
  }
}

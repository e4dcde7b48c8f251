/** Runs bench/torch_reference.py (the PyTorch side of the benchmarks) and parses its JSON line. */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIGS, type ConfigName } from './configs';

const here = dirname(fileURLToPath(import.meta.url));

export interface TorchResult {
  torch: string;
  threads: number;
  blas: string;
  matmulPeakGflops?: number;
  params?: number;
  msPerStep?: number;
  tokensPerSecond?: number;
  cpuMsPerStep?: number;
  rssMB?: number;
  rssGrowthMB?: number;
}

export interface TorchOptions {
  python: string;
  threads: number;
  /** 'auto' uses PyTorch when `python -c "import torch"` works, 'on' requires it, 'off' skips it. */
  mode: 'auto' | 'on' | 'off';
}

export function torchAvailable(opts: TorchOptions): boolean {
  if (opts.mode === 'off') return false;
  try {
    execFileSync(opts.python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    if (opts.mode === 'on') throw new Error(`${opts.python} cannot import torch (install Debian's python3-torch and libopenblas0-openmp)`);
    return false;
  }
}

export function runTorch(opts: TorchOptions, args: string[]): TorchResult {
  // OMP_WAIT_POLICY=passive: with OpenMP's default spinning barriers a 2-thread PyTorch step was measured ~50×
  // slower whenever another process held a core, which is the normal state of a shared machine.
  const threads = String(opts.threads);
  const env = { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'passive' };
  const out = execFileSync(opts.python, [join(here, 'torch_reference.py'), '--threads', threads, ...args], { env, encoding: 'utf8', timeout: 30 * 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

export function torchConfig(opts: TorchOptions, name: ConfigName, vocab: number, steps: number, warmup: number): TorchResult {
  const cfg = JSON.stringify({ name, ...CONFIGS[name] });
  return runTorch(opts, ['--config', cfg, '--vocab', String(vocab), '--steps', String(steps), '--warmup', String(warmup)]);
}

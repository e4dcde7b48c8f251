/**
 * Training throughput, side by side with PyTorch on the same machine (issue 8).
 *
 * For each backend and each config (S, M, L): tokens/s and median ms/step after warm-up, achieved GFLOP/s
 * (6·params + 12·layers·T·C per token) and its share of the backend's own 2-D matmul peak and of the
 * machine's peak (PyTorch's 1024² matmul on all cores), peak tensor memory of one step, the wasm heap,
 * tensors left alive after the run and the longest step (how long the event loop is held). Right after our
 * run of a config, bench/torch_reference.py trains the identical architecture in PyTorch and the ratio
 * ours / PyTorch is printed, so both sides see the same machine load.
 *
 *   npm run bench [-- --configs S,M,L] [--backend webgpu,wasm,cpu] [--steps 20] [--warmup 3] [--repeat 1]
 *                 [--torch auto|off] [--torch-threads 2] [--python /usr/bin/python3]
 *                 [--threads 1,2] [--pos learned] [--eval-lengths] [--levers] [--user-steps 1000] [--user-seconds 45] [--user-threads auto]
 *                 [--quick] [--json out.json]
 *
 * --threads: thread counts for data-parallel training on the wasm/cpu backends (src/lab/parallel), each measured
 * on every config (default: 1 and all cores). The native backends use every core themselves and run with 1.
 *
 * --pos: positional scheme of our model (default learned, the PyTorch reference's; others run the same
 * architecture with their own positions, so the PyTorch column stays a learned-position minGPT).
 *
 * --user-steps: on wasm, after each config's in-process rows, `gpt-lab train` itself trains that config for this
 * many steps (default 1,000, the issue's run length, but no more than --user-seconds of training at the in-process
 * loop's speed, at least 50: S trains 1,000 steps, M and L fewer) in a child process with the user's defaults (threads auto, samples, checkpoints, the store; evaluation
 * only at the end), and its end-to-end tokens/s is printed against the in-process loop on as many threads and
 * against PyTorch, with its steady state (median step of the run's second half, from the wall times it stored) and
 * its fixed cost (wall time beyond its steps at the steady step time; evaluation and samples included, and shown)
 * and its --profile phases (bench/userPath.ts). 0 skips it. --user-threads: the CLI's --threads for those runs, a list
 * (e.g. auto,1 compares every core with one).
 *
 * --quick: fewer steps everywhere (--steps 6 --warmup 2 --user-steps 60 --user-seconds 10) unless given; ~3× shorter.
 *
 * Default settings take about 5 minutes on an idle 2-core machine (S, M and L; 1 and 2 threads; PyTorch; the CLI).
 *
 * --levers: per config, starts from every optimisation in src/engine/model/ops.ts switched off (the state
 * before issue 8) and switches them on one at a time in order, printing tokens/s after each.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { activeBackend, BACKEND_NAMES, backendLabel, initBackend, type BackendName } from '../src/engine/backend';
import { resolveConfig } from '../src/engine/config';
import { buildCorpus } from '../src/engine/data/corpus';
import { evalAtLengths } from '../src/engine/eval/extrapolation';
import { GPT, modelConfigOf } from '../src/engine/model/gpt';
import { perfLevers, setFastPaths, type PerfLever } from '../src/engine/model/levers';
import { replicaOptimizerOf, splitRows } from '../src/engine/train/shards';
import { Trainer } from '../src/engine/train/trainer';
import { ThreadHelpers } from '../src/hosts/gradientThreads/client';
import { CONFIGS, type BenchDims, type ConfigName } from './configs';
import { runTorch, torchAvailable, torchConfig, type TorchOptions, type TorchResult } from './torch';
import { phaseLine, phaseMs, runUserPath, type UserPathResult } from './userPath';

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '1' },
    configs: { type: 'string', default: 'S,M,L' },
    torch: { type: 'string', default: 'auto' },
    'torch-threads': { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'eval-lengths': { type: 'boolean', default: false },
    levers: { type: 'boolean', default: false },
    pos: { type: 'string', default: 'learned' },
    threads: { type: 'string' },
    'user-steps': { type: 'string' },
    'user-seconds': { type: 'string' },
    'user-threads': { type: 'string', default: 'auto' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
const torchThreads = Number(values['torch-threads'] ?? cores);
const benchStarted = performance.now();
const quick = values.quick!;
const steps = Number(process.argv.includes('--steps') || !quick ? values.steps : 6);
const warmup = Number(process.argv.includes('--warmup') || !quick ? values.warmup : 2);
const repeat = Math.max(1, Number(values.repeat));
const userSteps = Number(values['user-steps'] ?? (quick ? 60 : 1000));
// Given --user-steps alone, exactly that many; else capped at this many seconds of training at the loop's speed.
const userSeconds = values['user-seconds'] !== undefined || values['user-steps'] === undefined ? Number(values['user-seconds'] ?? (quick ? 10 : 45)) : Infinity;
/** The user path's step count for a config whose in-process loop takes msPerStep (null: unknown). */
function userStepsFor(msPerStep: number | null): number {
  if (!msPerStep || !Number.isFinite(userSeconds)) return userSteps;
  return Math.min(userSteps, Math.max(50, Math.round((userSeconds * 1000) / msPerStep)));
}
const userThreads = values['user-threads']!.split(',');
const threadCounts = [...new Set((values.threads ?? `1,${cores}`).split(',').map(Number))];
for (const t of threadCounts) if (!Number.isInteger(t) || t < 1) throw new Error(`--threads: expected positive integers, got ${values.threads}`);

/** Training FLOPs per token: 6 per parameter (forward + backward) plus attention's 12·L·T·C (PaLM, appendix B). */
function flopsPerToken(params: number, c: BenchDims): number {
  return 6 * params + 12 * c.nLayer * c.blockSize * c.nEmbd;
}

/** Peak matmul throughput of the active backend: a square 2-D matmul, best of 5 (async read: webgpu has no sync one). */
async function matmulPeakGflops(n = 1024): Promise<number> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  await tf.matMul(a, b).data();
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    best = Math.min(best, performance.now() - t0);
    c.dispose();
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

function wasmHeapMB(): number | null {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return backend.wasm ? backend.wasm.HEAPU8.length / 2 ** 20 : null;
}

function benchConfigFor(dims: BenchDims, pos = values.pos!, threads = 1) {
  // One extra step at the end: the trainer evaluates on its last step, which is left out of the timings.
  return resolveConfig({ ...dims, data: 'builtin:toy-english', steps: steps + warmup + 1, evalEvery: 1_000_000, sampleEvery: 0, checkpointEvery: 0, pos, lr: 3e-4, minLr: 3e-4, threads });
}

function corpusVocab(): number {
  return buildCorpus({ source: 'builtin:toy-english', blockSize: 32, seed: 1, chars: 100_000 }).tokenizer.size;
}

async function benchConfig(name: ConfigName, measureMemory = true, threads = 1) {
  const dims = CONFIGS[name];
  const config = benchConfigFor(dims, values.pos!, threads);
  const corpus = buildCorpus({ source: config.data, blockSize: config.blockSize, seed: 1, chars: 100_000 });
  const tensorsBefore = tf.memory().numTensors;
  const model = new GPT(modelConfigOf(config, corpus.tokenizer.size), 1);
  const stepMs: number[] = [];
  const cpuMs: number[] = [];
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  const backend = activeBackend()!.name;
  const helpers = threads > 1 ? await ThreadHelpers.start({ count: threads - 1, model: model.cfg, params: model.parameterCount, maxRows: Math.max(...splitRows(dims.batchSize, threads)), backend, optimizer: replicaOptimizerOf(config) }) : undefined;
  const trainer = new Trainer({
    model,
    config,
    corpus,
    helpers,
    callbacks: {
      onStep: (m) => {
        const now = performance.now();
        const cpu = process.cpuUsage(lastCpu);
        if (m.step >= warmup && m.valLoss === null) {
          stepMs.push(now - last);
          cpuMs.push((cpu.user + cpu.system) / 1000);
        }
        last = now;
        lastCpu = process.cpuUsage();
      },
    },
  });
  last = performance.now();
  lastCpu = process.cpuUsage();
  const outcome = await trainer.run();
  trainer.dispose();
  await helpers?.dispose();
  // Peak tensor memory of one more step (profiling is kept out of the timed run).
  let peakBytes = NaN;
  if (measureMemory) {
    const once = new Trainer({ model, config: { ...config, steps: 1 }, corpus });
    peakBytes = (await tf.profile(async () => void (await once.run()))).peakBytes;
    once.dispose();
  }
  const params = model.parameterCount;
  model.dispose();
  const sorted = [...stepMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const cpuMedian = [...cpuMs].sort((a, b) => a - b)[Math.floor(cpuMs.length / 2)];
  const tokensPerSecond = (dims.batchSize * dims.blockSize) / (median / 1000);
  return {
    config: name,
    vocab: corpus.tokenizer.size,
    params,
    msPerStep: median,
    maxStepMs: sorted[sorted.length - 1],
    /** CPU time of this process per step: what a step costs without competition for the core. */
    cpuMsPerStep: cpuMedian,
    tokensPerSecond,
    tokensPerCpuSecond: (dims.batchSize * dims.blockSize) / (cpuMedian / 1000),
    gflops: (tokensPerSecond * flopsPerToken(params, dims)) / 1e9,
    peakTensorMB: peakBytes / 2 ** 20,
    heapMB: wasmHeapMB(),
    tensorsLeft: tf.memory().numTensors - tensorsBefore,
    stepMsAll: stepMs,
    finalLoss: outcome.finalTrainLoss,
  };
}

const torchOptions: TorchOptions = { python: values.python!, threads: torchThreads, mode: values.torch as TorchOptions['mode'] };
const torchConfigRun = (name: ConfigName, vocab: number): TorchResult => torchConfig(torchOptions, name, vocab, steps, warmup);

async function evalGrowth() {
  // Learned positions stop at the block, so the length sweep uses sinusoidal (same cost per token).
  const rows = [];
  for (const name of configNames) {
    const dims = CONFIGS[name];
    const config = benchConfigFor(dims, 'sinusoidal');
    const corpus = buildCorpus({ source: config.data, blockSize: config.blockSize, seed: 1, chars: 100_000 });
    const model = new GPT(modelConfigOf(config, corpus.tokenizer.size), 1);
    const lengths = [1, 2, 4, 8].map((f) => f * dims.blockSize);
    const budget = 8 * dims.blockSize * 4;
    const results = await evalAtLengths(model, corpus.val, lengths, { tokenBudget: budget });
    model.dispose();
    for (const r of results) rows.push({ config: name, length: r.length, windows: r.windows, ms: r.ms, msPer1kTokens: (1000 * r.ms) / (r.windows * r.length), peakMB: r.peakBytes / 2 ** 20 });
  }
  return rows;
}

const fmt = (x: number | null | undefined, digits = 1, width = 9): string => (x == null || !Number.isFinite(x) ? '—' : x.toFixed(digits)).padEnd(width);

const configNames = values.configs!.split(',') as ConfigName[];
for (const name of configNames) if (!(name in CONFIGS)) throw new Error(`unknown config ${name}; choose from ${Object.keys(CONFIGS).join(', ')}`);
const requested = values.backend?.split(',') as BackendName[] | undefined;
for (const b of requested ?? []) if (!BACKEND_NAMES.includes(b)) throw new Error(`unknown backend ${b}; choose from ${BACKEND_NAMES.join(', ')}`);
// Every backend that loads; the pure-JS cpu backend (~20× slower than wasm) only when asked for.
const candidates: BackendName[] = requested ?? BACKEND_NAMES.filter((b) => b !== 'cpu');

const useTorch = torchAvailable(torchOptions);
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores,
  memoryGB: os.totalmem() / 2 ** 30,
  node: process.version,
  tfjs: tf.version.tfjs,
  loadAverage: os.loadavg(),
};
console.log(`machine: ${machine.cpu}, ${cores} cores, ${machine.memoryGB.toFixed(1)} GB, node ${machine.node}, tfjs ${machine.tfjs}, load ${machine.loadAverage.map((l) => l.toFixed(1)).join(' ')}`);
let torchPeak: TorchResult | null = null;
if (useTorch) {
  torchPeak = runTorch(torchOptions, ['--peak']);
  console.log(`pytorch ${torchPeak.torch} (${torchPeak.blas}), ${torchPeak.threads} threads: 1024² matmul ${torchPeak.matmulPeakGflops!.toFixed(1)} GFLOP/s (machine peak)`);
} else console.log(values.torch === 'off' ? 'pytorch: skipped (--torch off)' : `pytorch: not available via ${values.python} (skipping the reference side)`);

const rows = [];
const userRows: (UserPathResult & { config: ConfigName; repeat: number; loadAverage: number[]; inProcessTokensPerSecond: number | null; torchTokensPerSecond: number | null })[] = [];
const seen = new Set<string>();

/** The user's path against the in-process loop on as many threads and against PyTorch, then where its time went. */
function userLine(name: ConfigName, user: UserPathResult, loop: number | null, torch: number | null): string {
  const ratio = (a: number, b: number | null): string => (b ? (a / b).toFixed(3) : '—');
  return (
    `${`${name} gpt-lab train`.padEnd(20)}${user.steps} steps ×${user.threads}: end to end ${user.endToEndTokensPerSecond.toFixed(0)} tok/s ` +
    `(${ratio(user.endToEndTokensPerSecond, loop)} of in-process ×${user.threads}, ${ratio(user.endToEndTokensPerSecond, torch)} of PyTorch); ` +
    `loop ${user.loopTokensPerSecond.toFixed(0)} tok/s (${ratio(user.loopTokensPerSecond, loop)}, ${ratio(user.loopTokensPerSecond, torch)}); ` +
    `steady ${user.steadyTokensPerSecond.toFixed(0)} tok/s (${ratio(user.steadyTokensPerSecond, loop)}, ${ratio(user.steadyTokensPerSecond, torch)}); ` +
    `fixed cost ${(user.fixedMs / 1000).toFixed(2)} s (of which eval ${(phaseMs(user, 'eval') / 1000).toFixed(2)} s, sample ${(phaseMs(user, 'sample') / 1000).toFixed(2)} s); load ${os.loadavg()[0]!.toFixed(1)}\n` +
    `${''.padEnd(20)}phases: ${phaseLine(user)}`
  );
}
for (const want of values.levers ? [] : candidates) {
  let info;
  try {
    info = await initBackend(want);
  } catch (error) {
    console.log(`backend ${want}: not available (${error instanceof Error ? error.message.split('\n')[0] : error})`);
    continue;
  }
  if (info.name !== want || seen.has(info.name)) {
    if (!requested) continue; // the ladder fell through to a backend measured on its own rung
  }
  seen.add(info.name);
  const peak = await matmulPeakGflops();
  const machinePeak = Math.max(peak, torchPeak?.matmulPeakGflops ?? 0);
  console.log(`\nbackend ${backendLabel(info)} (gpu: ${info.gpu}, threads: ${info.threads}); 1024² matmul ${peak.toFixed(1)} GFLOP/s${info.notes.length ? `; ${info.notes.join('; ')}` : ''}`);
  const header = 'config     params    ms/step  tokens/s  tok/cpu-s GFLOP/s  %backend %machine tensorMB heapMB   tensors  maxStep  | torch ms  torch tok/s ratio';
  const line = (label: string, ours: Awaited<ReturnType<typeof benchConfig>>, ref: TorchResult | null) => {
    const ratio = ref?.tokensPerSecond ? ours.tokensPerSecond / ref.tokensPerSecond : null;
    return `${label.padEnd(11)}${String(ours.params).padEnd(10)}${fmt(ours.msPerStep)}${fmt(ours.tokensPerSecond, 0, 10)}${fmt(ours.tokensPerCpuSecond, 0, 10)}${fmt(ours.gflops, 2)}${fmt((100 * ours.gflops) / peak, 1)}${fmt((100 * ours.gflops) / machinePeak, 1)}${fmt(ours.peakTensorMB)}${fmt(ours.heapMB, 0)}${String(ours.tensorsLeft).padEnd(9)}${fmt(ours.maxStepMs, 0)}| ${fmt(ref?.msPerStep)}${fmt(ref?.tokensPerSecond, 0, 12)}${ratio == null ? '—' : ratio.toFixed(3)}`;
  };
  console.log(header);
  const best: string[] = [];
  for (const name of configNames) {
    const threadsHere = info.name === 'wasm' || info.name === 'cpu' ? threadCounts : [1];
    const bestOurs = new Map<number, Awaited<ReturnType<typeof benchConfig>>>();
    let bestRef: TorchResult | null = null;
    for (let r = 0; r < repeat; r++) {
      // Ours on each thread count, then PyTorch right after: all see about the same machine load.
      const runs = [];
      for (const threads of threadsHere) runs.push({ threads, ours: await benchConfig(name, true, threads) });
      const ref = useTorch ? torchConfigRun(name, runs[0]!.ours.vocab) : null;
      for (const { threads, ours } of runs) {
        if (ref && ref.params !== ours.params) console.warn(`warning: PyTorch model has ${ref.params} parameters, ours ${ours.params}`);
        const ratio = ref?.tokensPerSecond ? ours.tokensPerSecond / ref.tokensPerSecond : null;
        rows.push({
          backend: info.name,
          gpu: info.gpu,
          adapter: info.adapter ?? null,
          threads: threads > 1 ? threads : info.threads,
          repeat: r,
          matmulPeakGflops: peak,
          machinePeakGflops: machinePeak,
          ...ours,
          pctBackendPeak: (100 * ours.gflops) / peak,
          pctMachinePeak: (100 * ours.gflops) / machinePeak,
          torch: ref ? { threads: ref.threads, msPerStep: ref.msPerStep, cpuMsPerStep: ref.cpuMsPerStep, tokensPerSecond: ref.tokensPerSecond, rssMB: ref.rssMB, rssGrowthMB: ref.rssGrowthMB } : null,
          ratio,
        });
        console.log(line(threads > 1 ? `${name} ×${threads}` : name, ours, ref));
        const previous = bestOurs.get(threads);
        if (!previous || ours.tokensPerSecond > previous.tokensPerSecond) bestOurs.set(threads, ours);
      }
      if (ref && (!bestRef || (ref.tokensPerSecond ?? 0) > (bestRef.tokensPerSecond ?? 0))) bestRef = ref;
      for (const threads of userSteps > 0 && info.name === 'wasm' ? userThreads : []) {
        const expectedThreads = threads === 'auto' ? Math.max(...runs.map((r) => r.threads)) : Number(threads);
        const planned = runs.find((r) => r.threads === expectedThreads)?.ours ?? null;
        const user = runUserPath(CONFIGS[name], userStepsFor(planned?.msPerStep ?? null), threads);
        const loop = runs.find((r) => r.threads === user.threads)?.ours ?? null;
        userRows.push({ config: name, repeat: r, loadAverage: os.loadavg(), ...user, inProcessTokensPerSecond: loop?.tokensPerSecond ?? null, torchTokensPerSecond: ref?.tokensPerSecond ?? null });
        console.log(userLine(name, user, loop?.tokensPerSecond ?? null, ref?.tokensPerSecond ?? null));
      }
    }
    if (repeat > 1) for (const [threads, ours] of bestOurs) best.push(line(`${name}${threads > 1 ? ` ×${threads}` : ''} best`, ours, bestRef));
  }
  if (best.length) {
    console.log(`best of ${repeat} (each side's fastest repeat; noise on a shared machine only ever adds time):`);
    for (const l of best) console.log(l);
  }
}

/** The order in which --levers switches the optimisations on (cheapest and most general first). */
const LEVER_ORDER: PerfLever[] = ['twoStageTranspose', 'rowSumMatmul', 'fusedBias', 'geluSigmoid', 'normGradients', 'crossEntropyGradient', 'slicedBatchMatMul', 'fusedAttention', 'fusedOptimizer', 'fastSplit', 'nativeGemm', 'sharedClones'];
const leverRows = [];
if (values.levers) {
  const info = await initBackend(requested?.[0] ?? 'wasm');
  const states: (PerfLever | null)[] = [null, ...LEVER_ORDER];
  const results = new Map<string, { wall: number[]; cpu: number[] }>();
  const refs = new Map<string, number[]>();
  for (let round = 0; round < repeat; round++) {
    for (const name of configNames) {
      if (useTorch) refs.set(name, [...(refs.get(name) ?? []), torchConfigRun(name, corpusVocab()).tokensPerSecond ?? NaN]);
      setFastPaths(false);
      for (const lever of states) {
        if (lever) perfLevers[lever] = true;
        const r = await benchConfig(name, false);
        const key = `${name}/${lever}`;
        const entry = results.get(key) ?? { wall: [], cpu: [] };
        entry.wall.push(r.tokensPerSecond);
        entry.cpu.push(r.tokensPerCpuSecond);
        results.set(key, entry);
        console.log(`round ${round + 1}/${repeat} ${name} ${lever ? `+ ${lever}` : 'baseline (all off)'}: ${r.tokensPerSecond.toFixed(0)} tokens/s wall, ${r.tokensPerCpuSecond.toFixed(0)} per CPU second`);
      }
      setFastPaths(true);
    }
  }
  console.log(`\nlevers on ${info.name}, switched on one at a time (cumulative); tokens per CPU-second of our process (robust to load) and best wall-clock, over ${repeat} rounds:`);
  console.log('config  lever                  tok/cpu-s  cpu ms/step  ×prev   ×base   wall tok/s  torch tok/s  ratio(wall)');
  for (const name of configNames) {
    const dims = CONFIGS[name];
    const ref = Math.max(...(refs.get(name) ?? [NaN]));
    let prev: number | null = null;
    let base: number | null = null;
    for (const lever of states) {
      const entry = results.get(`${name}/${lever}`)!;
      const cpu = Math.max(...entry.cpu);
      const wall = Math.max(...entry.wall);
      base ??= cpu;
      const ratio = Number.isFinite(ref) ? wall / ref : null;
      const label = lever ? `+ ${lever}` : 'baseline (all off)';
      leverRows.push({ config: name, lever: label, tokensPerCpuSecond: cpu, tokensPerSecond: wall, runs: entry, torchTokensPerSecond: Number.isFinite(ref) ? ref : null, ratio });
      console.log(
        `${name.padEnd(8)}${label.padEnd(23)}${fmt(cpu, 0, 11)}${fmt((1000 * dims.batchSize * dims.blockSize) / cpu, 1, 13)}${fmt(prev ? cpu / prev : null, 2, 8)}${fmt(cpu / base, 2, 8)}${fmt(wall, 0, 12)}${fmt(Number.isFinite(ref) ? ref : null, 0, 13)}${ratio == null ? '—' : ratio.toFixed(3)}`,
      );
      prev = cpu;
    }
  }
}

let evalRows = null;
if (values['eval-lengths']) {
  await initBackend(requested?.[0] ?? 'wasm');
  evalRows = await evalGrowth();
  console.log('\nevaluation at 1–8× the block (sinusoidal, same token budget per length):');
  console.log('config  length  windows  ms       ms/1k tok  peak tensor MB');
  for (const r of evalRows) console.log(`${r.config.padEnd(8)}${String(r.length).padEnd(8)}${String(r.windows).padEnd(9)}${fmt(r.ms, 0)}${fmt(r.msPer1kTokens, 1, 11)}${fmt(r.peakMB)}`);
}

if (values.json) {
  writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), machine, torch: torchPeak, steps, warmup, rows, userPath: userRows, levers: leverRows, eval: evalRows }, null, 2));
  console.log(`\nwrote ${values.json}`);
}
console.log(`\nbench took ${((performance.now() - benchStarted) / 60_000).toFixed(1)} min; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

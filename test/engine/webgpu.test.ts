/**
 * The webgpu rung for real: Dawn (npm `webgpu`) on Chromium's SwiftShader, a Vulkan driver that runs on the CPU.
 * The automatic ladder must prefer wasm over it; forced, it must train to wasm's numbers, leak nothing, write
 * checkpoints that resume on wasm (and take wasm's), and match the PyTorch fixture on the plain tfjs path.
 * Kept tiny: SwiftShader is ~100× slower than wasm.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type BackendInfo, type BackendName } from '../../src/engine/backend';
import { resolveConfig, type RunConfig } from '../../src/engine/config';
import { buildCorpus, type Corpus } from '../../src/engine/data';
import { GPT, modelConfigOf } from '../../src/engine/model/gpt';
import { setFastPaths } from '../../src/engine/model/levers';
import { Trainer } from '../../src/engine/train/trainer';
import { parityFixture } from '../helpers/fixtures';
import { expectParity, type Case } from '../helpers/parity';
import { useSwiftShader } from '../helpers/swiftshader';

const skip = useSwiftShader();

const TINY: Partial<RunConfig> = {
  data: 'builtin:copy',
  nLayer: 1,
  nHead: 2,
  nEmbd: 16,
  blockSize: 8,
  batchSize: 4,
  steps: 4,
  lr: 1e-2,
  minLr: 1e-3,
  evalEvery: 2,
  evalBatches: 1,
  sampleEvery: 0,
  checkpointEvery: 2,
};

interface Trained {
  losses: number[];
  gradNorms: number[];
  valLosses: number[];
  checkpoints: Map<number, Uint8Array>;
  /** tf.memory().numTensors after each step. */
  tensorsAfterStep: number[];
  leaked: number;
}

let copyCorpus: Corpus | undefined;
const corpus = (): Corpus => (copyCorpus ??= buildCorpus({ source: 'builtin:copy', blockSize: 8, seed: 7, chars: 4000 }));

async function train(backend: BackendName, opts: { steps?: number; resumeFrom?: Uint8Array } = {}): Promise<Trained> {
  await initBackend(backend);
  const config = resolveConfig({ ...TINY, steps: opts.steps ?? TINY.steps });
  const before = tf.memory().numTensors;
  const model = new GPT(modelConfigOf(config, corpus().tokenizer.size), config.seed);
  const out: Trained = { losses: [], gradNorms: [], valLosses: [], checkpoints: new Map(), tensorsAfterStep: [], leaked: 0 };
  const trainer = new Trainer({
    model,
    config,
    corpus: corpus(),
    resumeFrom: opts.resumeFrom,
    callbacks: {
      onStep: (m) => {
        out.losses.push(m.trainLoss);
        out.gradNorms.push(m.gradNorm);
        if (m.valLoss !== null) out.valLosses.push(m.valLoss);
        out.tensorsAfterStep.push(tf.memory().numTensors);
      },
      onCheckpoint: (step, data) => void out.checkpoints.set(step, data),
    },
  });
  const outcome = await trainer.run();
  expect(outcome.status).toBe('completed');
  trainer.dispose();
  model.dispose();
  out.leaked = tf.memory().numTensors - before;
  return out;
}

function expectClose(actual: number[], expected: number[], tolerance: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!), `${what}[${i}]: ${a} vs ${expected[i]}`).toBeLessThan(tolerance));
}

describe.skipIf(skip !== null)(`webgpu on SwiftShader${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let auto: BackendInfo;
  let webgpu: BackendInfo;
  let wasmRun: Trained;

  beforeAll(async () => {
    // First, so this process's default comes from walking the whole ladder.
    auto = await initBackend();
    wasmRun = await train('wasm');
  });

  it('the automatic ladder prefers wasm over the software adapter, and says why', () => {
    expect(auto.name).toBe('wasm');
    expect(auto.notes).toContain(
      'webgpu: webgpu · google · swiftshader is a software adapter on the CPU, slower than wasm (choose backend webgpu to use it anyway)',
    );
  });

  it('forced, runs on the SwiftShader adapter and does not call it a GPU', async () => {
    webgpu = await initBackend('webgpu');
    expect(webgpu.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(webgpu.gpu).toBe(false);
    expect(webgpu.adapter).toMatchObject({ vendor: 'google', architecture: 'swiftshader', software: true });
    expect(webgpu.notes.some((n) => n.startsWith('webgpu runs on a software adapter'))).toBe(true);
  });

  it("trains to wasm's losses, gradient norms and validation losses (1e-4), with no tensor leaked", async () => {
    const run = await train('webgpu');
    expectClose(run.losses, wasmRun.losses, 1e-4, 'train loss');
    expectClose(run.gradNorms, wasmRun.gradNorms, 1e-4, 'grad norm');
    expectClose(run.valLosses, wasmRun.valLosses, 1e-4, 'val loss');
    // Real numbers, not the zeros a kernel that fails WebGPU validation reads back (both sides equal would prove nothing).
    expect(Math.min(...run.losses)).toBeGreaterThan(1);
    expect(Math.min(...run.gradNorms)).toBeGreaterThan(0.1);
    expect(new Set(run.losses).size).toBe(run.losses.length);
    expect(new Set(run.tensorsAfterStep.slice(1)).size).toBe(1);
    expect(run.leaked).toBe(0);
  });

  it('a checkpoint written on webgpu resumes on wasm, and one written on wasm resumes on webgpu', async () => {
    const halfOnGpu = await train('webgpu', { steps: TINY.steps });
    const fromGpu = await train('wasm', { resumeFrom: halfOnGpu.checkpoints.get(1)! });
    expectClose(fromGpu.losses, wasmRun.losses.slice(2), 1e-4, 'wasm resumed from a webgpu checkpoint');
    const fromWasm = await train('webgpu', { resumeFrom: wasmRun.checkpoints.get(1)! });
    expectClose(fromWasm.losses, wasmRun.losses.slice(2), 1e-4, 'webgpu resumed from a wasm checkpoint');
  });

  describe('parity with the PyTorch fixture on the plain tfjs path', () => {
    // A rotation past the block, and a logit bias under post-norm: two kinds of scheme hook, few shaders to compile.
    const ids = ['rope-pre-layer-T16', 'alibi-post-layer-T8'];
    const cases = (parityFixture().cases as Case[]).filter((c) => ids.includes(c.id));
    beforeAll(async () => {
      await initBackend('webgpu');
      setFastPaths(false);
    });
    afterAll(() => setFastPaths(true));

    it('has every chosen case', () => expect(cases.map((c) => c.id).sort()).toEqual([...ids].sort()));
    it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
      expect(tf.getBackend()).toBe('webgpu');
      await expectParity(c);
    });
  });
});

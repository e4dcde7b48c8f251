/**
 * The GPT-2 export: the committed fixture export is what GPT Lab's exporter writes today, its tensors carry
 * transformers' GPT-2 names and shapes, and PyTorch's GPT2LMHeadModel forward on those bytes
 * (test/fixtures/gpt2_export.py, committed logits.json) gives GPT Lab's logits within 1e-4.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/engine/config';
import { exportModelFiles, gpt2Blockers, importModelFiles } from '../../../src/engine/interop/gpt2';
import { decodeSafetensors } from '../../../src/engine/interop/safetensors';
import { GPT, modelConfigOf } from '../../../src/engine/model/gpt';
import { FIXTURE_DIR, FIXTURE_INPUT, fixtureConfig, fixtureExport, fixtureTokenizer, fixtureWeights } from '../../fixtures/gpt2Export';
import { useWasmBackend } from '../../helpers/backend';

useWasmBackend();

const committed = (name: string): Buffer => readFileSync(`${FIXTURE_DIR}${name}`);

function labLogits(weights: Record<string, Float32Array>): number[] {
  const model = new GPT(modelConfigOf(fixtureConfig(), fixtureTokenizer().size), 1);
  model.setWeights(weights);
  const logits = tf.tidy(() => Array.from(model.forward(tf.tensor2d(FIXTURE_INPUT, [2, 8], 'int32')).dataSync()));
  model.dispose();
  return logits;
}

describe('GPT-2 export', () => {
  it('writes the committed fixture byte for byte (regenerate both with test/fixtures/gpt2Export.ts and gpt2_export.py)', () => {
    const files = fixtureExport().files;
    expect(Buffer.from(files['model.safetensors'] as Uint8Array).equals(committed('model.safetensors'))).toBe(true);
    // The run config inside gpt_lab grows with every new setting; the transformers fields must not change.
    const withoutRunConfig = (text: string) => ({ ...JSON.parse(text), gpt_lab: { ...JSON.parse(text).gpt_lab, config: undefined } });
    expect(withoutRunConfig(files['config.json'] as string)).toEqual(withoutRunConfig(committed('config.json').toString('utf8')));
  });

  it("names and shapes every tensor as transformers' GPT-2 state dict does (V 13, C 8, 8 positions, 2 layers)", () => {
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(committed('model.safetensors')));
    expect(metadata.format).toBe('pt');
    const expected: Record<string, number[]> = { 'transformer.wte.weight': [13, 8], 'transformer.wpe.weight': [8, 8] };
    for (const i of [0, 1]) {
      const h = `transformer.h.${i}`;
      Object.assign(expected, {
        [`${h}.ln_1.weight`]: [8], [`${h}.ln_1.bias`]: [8],
        [`${h}.attn.c_attn.weight`]: [8, 24], [`${h}.attn.c_attn.bias`]: [24],
        [`${h}.attn.c_proj.weight`]: [8, 8], [`${h}.attn.c_proj.bias`]: [8],
        [`${h}.ln_2.weight`]: [8], [`${h}.ln_2.bias`]: [8],
        [`${h}.mlp.c_fc.weight`]: [8, 32], [`${h}.mlp.c_fc.bias`]: [32],
        [`${h}.mlp.c_proj.weight`]: [32, 8], [`${h}.mlp.c_proj.bias`]: [8],
      });
    }
    Object.assign(expected, { 'transformer.ln_f.weight': [8], 'transformer.ln_f.bias': [8], 'lm_head.weight': [13, 8] });
    expect(Object.fromEntries([...tensors].map(([name, t]) => [name, t.shape]))).toEqual(expected);
    const config = JSON.parse(committed('config.json').toString('utf8'));
    expect(config).toMatchObject({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: 13, n_positions: 8, n_embd: 8, n_layer: 2, n_head: 2, activation_function: 'gelu_new', tie_word_embeddings: false, layer_norm_epsilon: 1e-5 });
  });

  it("matches PyTorch's GPT2LMHeadModel forward on the exported file within 1e-4", () => {
    const reference = JSON.parse(committed('logits.json').toString('utf8')) as { input: number[][]; logits: { shape: number[]; data: number[] } };
    expect(reference.input).toEqual(FIXTURE_INPUT);
    expect(reference.logits.shape).toEqual([2, 8, 13]);
    const ours = labLogits(fixtureWeights());
    // The weights are large enough that logits spread over several units: a near-zero model could not fail this.
    expect(Math.max(...reference.logits.data.map(Math.abs))).toBeGreaterThan(1);
    let worst = 0;
    ours.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - reference.logits.data[i]))));
    expect(worst).toBeLessThan(1e-4);
  });

  it('imports its own export to the same weights, bit for bit', () => {
    const files = fixtureExport().files;
    const imported = importModelFiles(files['config.json'] as string, files['model.safetensors'] as Uint8Array);
    expect(imported.layout).toBe('gpt2');
    expect(imported.vocab).toEqual(fixtureTokenizer().vocab);
    const original = fixtureWeights();
    for (const [name, data] of Object.entries(original)) expect(imported.weights[name]).toEqual(data);
  });
});

describe('which layout a run gets', () => {
  it('GPT-2 only for learned positions, pre-norm LayerNorm, no ablations', () => {
    expect(gpt2Blockers(resolveConfig({}))).toEqual([]);
    expect(gpt2Blockers(resolveConfig({ pos: 'rope', norm: 'post', normType: 'rms', attnScale: false }))).toEqual([
      "positions are rope, GPT-2's are learned",
      "norm placement is post, GPT-2's is pre",
      "norm type is rms, GPT-2's is LayerNorm",
      'the 1/sqrt(d) attention scaling is ablated',
    ]);
  });

  it("writes other runs in GPT Lab's names with a config that says what they are, and reads them back", async () => {
    const config = resolveConfig({ data: 'builtin:copy', nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 8, pos: 'alibi' });
    const model = new GPT(modelConfigOf(config, 5), 3);
    const weights = await model.getWeights();
    const files = exportModelFiles({ config, vocabSize: 5, weights, tokenizer: 'char', vocab: ['a', 'b', 'c', 'd', 'e'], step: 9, runName: 'alibi run' });
    expect(files.layout).toBe('gpt-lab');
    const json = JSON.parse(files.files['config.json'] as string);
    expect(json.model_type).toBe('gpt-lab');
    expect(json.gpt_lab.notGpt2Because).toEqual(["positions are alibi, GPT-2's are learned"]);
    const names = [...decodeSafetensors(files.files['model.safetensors'] as Uint8Array).tensors.keys()];
    expect(names).toContain('h.0.attn.w_qkv');
    expect(names).not.toContain('pos.wpe');
    const back = importModelFiles(files.files['config.json'] as string, files.files['model.safetensors'] as Uint8Array);
    expect(back.config.pos).toBe('alibi');
    expect(back.step).toBe(9);
    expect(back.weights['lm_head.w']).toEqual(weights['lm_head.w']);
    model.dispose();
  });

  it('refuses a config.json whose tensors do not match, naming the tensor and both shapes', () => {
    const files = fixtureExport().files;
    const config = JSON.parse(files['config.json'] as string);
    config.gpt_lab.config.nEmbd = 16;
    config.gpt_lab.config.nHead = 2;
    expect(() => importModelFiles(JSON.stringify(config), files['model.safetensors'] as Uint8Array)).toThrow(/tensor transformer\.wte\.weight has shape \[13, 8\], but config\.json makes it \[13, 16\]/);
    expect(() => importModelFiles('[1]', files['model.safetensors'] as Uint8Array)).toThrow(/not a JSON object/);
  });
});

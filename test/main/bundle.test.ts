/**
 * Electron main never trains, so its bundle holds no trainer: no module that src/main/index.ts imports statically,
 * directly or through the service, reaches the training loop or the optimizer. Read from esbuild's import graph
 * (its metafile), which is what electron-vite's bundler follows too, in a second rather than a full build.
 * (A dynamic `import()` is a chunk of its own, loaded only when called: the service's recipe catalogue is one.)
 */
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const TRAINING = ['src/engine/train/trainer.ts', 'src/engine/train/adamw.ts', 'src/lab/runner.ts', 'src/lab/parallel/pendingHelpers.ts', 'src/hosts/gradientThreads/client.ts'];

/** Every module reachable from `entry` through static imports, each with the chain that brought it in. */
async function staticGraph(entry: string): Promise<Map<string, string[]>> {
  const { metafile } = await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', outdir: 'out/.bundle-test', logLevel: 'silent' });
  const inputs: Metafile['inputs'] = metafile.inputs;
  const chains = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length) {
    const from = queue.shift()!;
    for (const edge of inputs[from]?.imports ?? []) {
      if (edge.kind === 'dynamic-import' || !(edge.path in inputs) || chains.has(edge.path)) continue;
      chains.set(edge.path, [...chains.get(from)!, edge.path]);
      queue.push(edge.path);
    }
  }
  return chains;
}

describe('the Electron main bundle', () => {
  it('statically imports no training code', async () => {
    const graph = await staticGraph('src/main/index.ts');
    // The graph is real: main does bundle the service and the store.
    expect([...graph.keys()]).toEqual(expect.arrayContaining(['src/service/labService.ts', 'src/store/runStore.ts']));
    const reached = TRAINING.filter((module) => graph.has(module)).map((module) => graph.get(module)!.join(' → '));
    expect(reached).toEqual([]);
  }, 60_000);

  it('names modules that exist: the training host does import every one of them', async () => {
    const host = await staticGraph('src/hosts/training/entry.ts');
    expect(TRAINING.filter((module) => !host.has(module))).toEqual([]);
  }, 60_000);
});

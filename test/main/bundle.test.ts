/**
 * Electron main never trains, so its bundle holds no trainer: no module that src/main/index.ts imports statically,
 * directly or through the service, reaches the training loop or the optimizer. Read from esbuild's import graph
 * (its metafile), which is what electron-vite's bundler follows too, in a second rather than a full build.
 * (A dynamic `import()` is a chunk of its own, loaded only when called: the service's recipe catalogue is one.)
 */
import { describe, expect, it } from 'vitest';
import { staticGraph as importGraph } from '../helpers/importGraph';

const TRAINING = ['src/engine/train/trainer.ts', 'src/engine/train/adamw.ts', 'src/lab/runner.ts', 'src/lab/parallel/pendingHelpers.ts', 'src/hosts/gradientThreads/client.ts'];

/** Every module reachable from `entry` through static imports, each with the chain that brought it in. */
const staticGraph = async (entry: string): Promise<Map<string, string[]>> => (await importGraph(entry)).modules;

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

/**
 * A module's static import graph, read from esbuild's metafile (what the bundlers follow) in a second rather than a
 * full build. A dynamic `import()` is a chunk of its own, loaded only when called, so it is not followed.
 */
import { build, type Metafile } from 'esbuild';

export interface ImportGraph {
  /** Every module reached (source paths from the repository root), each with the chain that brought it in. */
  modules: Map<string, string[]>;
  /** Packages imported statically (external: never bundled), each with the chain that brought it in. */
  packages: Map<string, string[]>;
}

/** `entry`'s static imports, transitively; a module for which `opaque` is true is reached but not looked into. */
export async function staticGraph(entry: string, opaque: (module: string) => boolean = () => false): Promise<ImportGraph> {
  const { metafile } = await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', outdir: 'out/.bundle-test', logLevel: 'silent' });
  const inputs: Metafile['inputs'] = metafile.inputs;
  const modules = new Map<string, string[]>([[entry, [entry]]]);
  const packages = new Map<string, string[]>();
  const queue = [entry];
  while (queue.length) {
    const from = queue.shift()!;
    if (from !== entry && opaque(from)) continue;
    for (const edge of inputs[from]?.imports ?? []) {
      if (edge.kind === 'dynamic-import') continue;
      if (edge.external && !packages.has(edge.path)) packages.set(edge.path, [...modules.get(from)!, edge.path]);
      if (!(edge.path in inputs) || modules.has(edge.path)) continue;
      modules.set(edge.path, [...modules.get(from)!, edge.path]);
      queue.push(edge.path);
    }
  }
  return { modules, packages };
}

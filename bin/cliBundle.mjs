/**
 * The CLI and its helper-thread entry, bundled by esbuild into a cache directory the first time `gpt-lab` runs and
 * again whenever one of their source files changes. Without it every start (and every helper thread of a run) had
 * tsx compile and resolve ~150 TypeScript modules through Node's loader hooks (docs/PERFORMANCE.md, "Fixed cost").
 *
 * - Packages stay external: the bundle imports tfjs, better-sqlite3, … from node_modules like the sources do.
 * - Each source file keeps its own `import.meta.url` (replaced by its file URL while bundling), so paths it builds
 *   relative to itself (resources, the training host, the worker fallback) point where they do when run from source.
 * - Fresh means: every input recorded in the manifest still has its size and mtime. Checking costs one stat per input.
 * - Writes go to a temporary directory first and are renamed into place, so concurrent starts never read half a file.
 * - Dynamic imports stay chunks of their own (`splitting`), loaded when they run, as from source.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The bundles `gpt-lab` starts from: name → entry source, relative to the project root. */
export const CLI_ENTRIES = { cli: 'src/cli/main.ts', gradientWorker: 'src/hosts/gradientThreads/entry.ts' };

const MANIFEST = 'manifest.json';

/** True when every input the last build read is unchanged (same size and mtime). */
function isFresh(root, dir, entries) {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
    if (JSON.stringify(manifest.entries) !== JSON.stringify(entries)) return false;
    return Object.entries(manifest.inputs).every(([file, [mtimeMs, size]]) => {
      const stat = statSync(join(root, file));
      return stat.mtimeMs === mtimeMs && stat.size === size;
    });
  } catch {
    return false;
  }
}

/** An esbuild plugin giving each project file (not packages) its own file URL as `import.meta.url`. */
const ownModuleUrls = {
  name: 'own-module-urls',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
      if (args.path.includes(`${join('node_modules', '')}`)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const loader = extname(args.path).includes('t') ? 'ts' : 'js';
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader };
    });
  },
};

/**
 * Paths of the bundled entries (name → file), built first when missing or stale. `built` says whether this call
 * built them. Throws when esbuild fails (the caller falls back to running the sources through tsx).
 */
export async function cliBundle({ root = projectRoot, entries = CLI_ENTRIES, dir = join(root, 'node_modules', '.cache', 'gpt-lab-cli') } = {}) {
  const paths = Object.fromEntries(Object.keys(entries).map((name) => [name, join(dir, `${name}.mjs`)]));
  if (isFresh(root, dir, entries)) return { paths, built: false };
  const { build } = await import('esbuild');
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    const result = await build({
      absWorkingDir: root,
      entryPoints: Object.fromEntries(Object.entries(entries).map(([name, source]) => [name, join(root, source)])),
      outdir: staging,
      outExtension: { '.js': '.mjs' },
      // Dynamic imports stay separate chunks, so commands the CLI loads lazily (sweeps: bullmq, ioredis) stay lazy.
      splitting: true,
      chunkNames: 'chunk-[hash]',
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
      plugins: [ownModuleUrls],
    });
    const inputs = {};
    for (const input of Object.keys(result.metafile.inputs)) {
      const file = relative(root, resolve(root, input));
      const stat = statSync(join(root, file));
      inputs[file] = [stat.mtimeMs, stat.size];
    }
    mkdirSync(dir, { recursive: true });
    // Chunks first (their names hash their contents, so no start can see a chunk change under it), then the entries.
    const outputs = Object.keys(result.metafile.outputs).map((output) => relative(staging, resolve(root, output)));
    const entryFiles = new Set(Object.values(paths).map((path) => relative(dir, path)));
    for (const file of [...outputs.filter((f) => !entryFiles.has(f)), ...entryFiles]) renameSync(join(staging, file), join(dir, file));
    writeFileSync(join(staging, MANIFEST), JSON.stringify({ entries, inputs }));
    renameSync(join(staging, MANIFEST), join(dir, MANIFEST));
    return { paths, built: true };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Where an installed app's pieces are (electron-builder's layout, see electron-builder.yml): the app itself in
 * <resources>/app.asar, and the files native code or a path-based reader needs outside it, at the same relative
 * path under <resources>/app.asar.unpacked. Pure functions of the paths, so tests check them without a package.
 */
import { join } from 'node:path';
import { BUNDLED_ENTRIES } from '../hosts/launch';

export interface PackagedLayout {
  /** <resources>/app.asar: package.json, out/, node_modules/ */
  appDir: string;
  /** out/main: index.js, labProcess.js, the hosts, the gradient worker */
  mainDir: string;
  preload: string;
  rendererIndex: string;
  /** The window icon (unpacked: the window manager reads it by path). */
  icon: string;
  /** better-sqlite3's native module, rebuilt for Electron's ABI. */
  sqliteBinary: string;
  /** tfjs' WebAssembly files (tfjs-backend-wasm*.wasm). */
  wasmDir: string;
  /** Dawn for the WebGPU rung, with its platform DLLs beside it on Windows. */
  dawnBinary: string;
  /** The BLAS matmul addon (native/blas), built where the app was packaged; optional like Dawn. */
  blasAddon: string;
}

/** The `webgpu` package's folder for a platform: one universal build on macOS, one per arch elsewhere. */
export function dawnTarget(platform: NodeJS.Platform, arch: string): string {
  return platform === 'darwin' ? 'darwin-universal' : `${platform}-${arch}`;
}

export function packagedLayout(resourcesPath: string, platform: NodeJS.Platform = process.platform, arch: string = process.arch): PackagedLayout {
  const appDir = join(resourcesPath, 'app.asar');
  const unpacked = (...parts: string[]) => join(`${appDir}.unpacked`, ...parts);
  const out = (...parts: string[]) => join(appDir, 'out', ...parts);
  return {
    appDir,
    mainDir: out('main'),
    preload: out('preload', 'index.cjs'),
    rendererIndex: out('renderer', 'index.html'),
    icon: unpacked('resources', 'icon.png'),
    sqliteBinary: unpacked('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'),
    wasmDir: unpacked('node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'),
    dawnBinary: unpacked('node_modules', 'webgpu', 'dist', dawnTarget(platform, arch), 'dawn.node'),
    blasAddon: unpacked('native', 'blas', 'build', 'Release', 'gpt_lab_blas.node'),
  };
}

export interface PackagedFileCheck {
  /** What the app cannot run without: it refuses to start and names them. */
  missing: string[];
  /** What only an optional part needs (Dawn for WebGPU, the BLAS addon for faster CPU matmuls): the lab runs without it. */
  optionalMissing: string[];
}

/** Checks that the packager put everything where the lab looks for it (`exists` is fs.existsSync in the app). */
export function checkPackagedFiles(layout: PackagedLayout, exists: (path: string) => boolean): PackagedFileCheck {
  const absent = (entries: [string, string][]) => entries.filter(([, path]) => !exists(path)).map(([what, path]) => `${what} (${path})`);
  return {
    missing: absent([
      ['the lab process', join(layout.mainDir, BUNDLED_ENTRIES.lab)],
      ["better-sqlite3's native module", layout.sqliteBinary],
      ["tfjs' WebAssembly backend", join(layout.wasmDir, 'tfjs-backend-wasm.wasm')],
    ]),
    optionalMissing: absent([
      ['Dawn, for the WebGPU backend', layout.dawnBinary],
      ['the BLAS addon, for faster matmuls on the CPU', layout.blasAddon],
    ]),
  };
}

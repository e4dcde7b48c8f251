/**
 * The CLI bundle (bin/cliBundle.mjs): built when missing, reused while its inputs are unchanged, rebuilt when one
 * changes, and each source file keeps its own import.meta.url inside the bundle.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module without type declarations
import { cliBundle } from '../../bin/cliBundle.mjs';

const root = mkdtempSync(join(tmpdir(), 'gpt-lab-bundle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'src', 'deep'), { recursive: true });
const where = join(root, 'src', 'deep', 'where.ts');
writeFileSync(where, "export const here: string = import.meta.url;\n");
writeFileSync(join(root, 'src', 'main.ts'), "import { here } from './deep/where';\nexport const answer: number = 42;\nexport { here };\n");
const options = { root, entries: { main: 'src/main.ts' }, dir: join(root, 'cache') };

describe('the CLI bundle', () => {
  it('is built on first use, and each module in it still sees its own file as import.meta.url', async () => {
    const { paths, built } = await cliBundle(options);
    expect(built).toBe(true);
    const bundled = await import(pathToFileURL(paths.main).href);
    expect(bundled.answer).toBe(42);
    expect(bundled.here).toBe(pathToFileURL(where).href);
  });

  it('is reused while no input changed, and rebuilt when one did', async () => {
    expect((await cliBundle(options)).built).toBe(false);
    utimesSync(where, new Date(), new Date(Date.now() + 5_000));
    expect((await cliBundle(options)).built).toBe(true);
    expect((await cliBundle(options)).built).toBe(false);
  });

  it('reports a source that does not compile, naming it', async () => {
    writeFileSync(join(root, 'src', 'broken.ts'), 'export const = ;\n');
    await expect(cliBundle({ ...options, entries: { broken: 'src/broken.ts' } })).rejects.toThrow(/broken\.ts/);
  });
});

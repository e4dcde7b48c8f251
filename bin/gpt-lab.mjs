#!/usr/bin/env node
// Runs the CLI from an esbuild bundle of its TypeScript, built on first use and rebuilt when a source changes
// (bin/cliBundle.mjs), so `npx gpt-lab` works right after `npm install` and starts without compiling. Should the
// bundle fail to build, or with GPT_LAB_CLI_BUNDLE=0, the sources run through tsx as before.
import { pathToFileURL } from 'node:url';

async function loadCli() {
  if (process.env.GPT_LAB_CLI_BUNDLE !== '0') {
    try {
      const { cliBundle } = await import('./cliBundle.mjs');
      const { paths } = await cliBundle();
      // Helper threads start from their bundle too (src/hosts/gradientThreads/client.ts).
      process.env.GPT_LAB_GRADIENT_WORKER ??= paths.gradientWorker;
      return await import(pathToFileURL(paths.cli).href);
    } catch (error) {
      process.stderr.write(`gpt-lab: running from source, the CLI bundle could not be built: ${error instanceof Error ? error.message : error}\n`);
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import('../src/cli/main.ts');
}

const { runCli } = await loadCli();
process.exitCode = await runCli(process.argv);

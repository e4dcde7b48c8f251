/**
 * The analysis host: a process of its own (forked by LabService beside the training host, through client.ts and the
 * supervisor) that evaluates and probes stored runs and runs recipes, one job at a time in the order they arrive. It
 * opens its own RunStore on the same database (WAL) and loads the backend once.
 *
 * argv: <database path> [backend name]. Messages: see protocol.ts; the work itself: src/lab/analysisJobs.ts.
 */
import { BACKEND_NAMES, initBackend, type BackendName } from '../../engine/backend';
import { runAnalysisJob } from '../../lab/analysisJobs';
import { RunStore } from '../../store';
import { connectToParent, type ParentChannel } from '../parentChannel';
import { analysisCommandSchema, type AnalysisEvent } from './protocol';

// Annotated, so that TypeScript knows parent.fail() never returns.
const parent: ParentChannel<AnalysisEvent> = connectToParent('analysis host');
const { send } = parent;

const [dbPath, backendArg] = process.argv.slice(2);
if (!dbPath) parent.fail('analysis host started without a database path');
let store: RunStore;
try {
  store = RunStore.open(dbPath);
} catch (error) {
  parent.fail(`cannot open the run database ${dbPath}: ${error instanceof Error ? error.message : String(error)}`);
}
const backend = initBackend(BACKEND_NAMES.includes(backendArg as BackendName) ? (backendArg as BackendName) : undefined);
let queue: Promise<void> = Promise.resolve();

process.on('message', (message) => {
  const parsed = analysisCommandSchema.safeParse(message);
  if (!parsed.success) {
    process.stderr.write('gpt-lab analysis host: ignored a malformed message\n');
    return;
  }
  const { id, job } = parsed.data;
  queue = queue.then(async () => {
    send({ type: 'started', id });
    try {
      await backend;
      const value = await runAnalysisJob(store, job, {
        log: (message) => send({ type: 'progress', id, message }),
        token: (index, token) => send({ type: 'token', id, index, token }),
      });
      send({ type: 'result', id, value });
    } catch (error) {
      send({ type: 'error', id, message: error instanceof Error ? error.message : String(error) });
    }
  });
});
// The parent stops this host by closing the channel (or went away): nothing here needs finishing.
process.on('disconnect', () => {
  store.close();
  process.exit(0);
});
process.on('SIGINT', () => undefined);

await backend.then(
  () => send({ type: 'ready' }),
  (error: unknown) => parent.fail(`no backend: ${error instanceof Error ? error.message : String(error)}`),
);

/**
 * The training host: a process of its own (forked by LabService through client.ts and the supervisor) so training never blocks a window
 * or a server, and a crash here cannot take them down. It opens its own RunStore on the same database file
 * (WAL lets both sides read and write), loads the best backend of the ladder once, then trains what it is sent.
 *
 * argv: <database path> [backend name]. Messages: see protocol.ts; the work itself: trainingHost.ts.
 */
import { initBackend, BACKEND_NAMES, type BackendName } from '../../engine/backend';
import { RunStore } from '../../store';
import { connectToParent, type ParentChannel } from '../parentChannel';
import type { HostEvent } from './protocol';
import { TrainingHost } from './trainingHost';

// Annotated, so that TypeScript knows parent.fail() never returns.
const parent: ParentChannel<HostEvent> = connectToParent('training host');
const { send } = parent;

const [dbPath, backendArg] = process.argv.slice(2);
if (!dbPath) parent.fail('training host started without a database path');
const preferred = BACKEND_NAMES.includes(backendArg as BackendName) ? (backendArg as BackendName) : undefined;

let store: RunStore;
try {
  store = RunStore.open(dbPath);
} catch (error) {
  parent.fail(`cannot open the run database ${dbPath}: ${error instanceof Error ? error.message : String(error)}`);
}

const backend = initBackend(preferred);
const host = new TrainingHost({
  store,
  send,
  backend,
  onShutdown: () => {
    store.close();
    process.exit(0);
  },
});
process.on('message', (message) => host.handle(message));
// The parent went away (crashed, killed): finish the current step, keep a checkpoint, mark the run interrupted, leave.
process.on('disconnect', () => host.parentGone());
// Ctrl+C in a terminal reaches the whole process group; the parent decides, and sends 'shutdown' when it stops.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => host.handle({ type: 'shutdown' }));

try {
  send({ type: 'ready', backend: await backend });
} catch (error) {
  parent.fail(error instanceof Error ? error.message : String(error));
}

/**
 * The lab in a process of its own, under plain Node. Electron's main process talks to it through client.ts, so
 * better-sqlite3 and the training host always run on the Node ABI they were built for: the desktop app needs no
 * native rebuild for Electron. Messages: see protocol.ts.
 */
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabService } from '../../service/labService';
import { dispatch } from '../dispatch';
import { BUNDLED_ENTRIES, bundledHostLaunch, sourceHostLaunch, type HostLaunch } from '../launch';
import { connectToParent, type ParentChannel } from '../parentChannel';
import { describeStartupError } from '../startupErrors';
import { labCallSchema, type LabProcessEvent } from './protocol';

function hostLaunch(): HostLaunch {
  const here = fileURLToPath(import.meta.url);
  // Bundled (out/main/labProcess.js) the hosts and the gradient worker sit beside us as .js; from source they run
  // through tsx. The hosts inherit our environment, which is how a host finds the worker.
  if (extname(here) !== '.js') return sourceHostLaunch();
  process.env.GPT_LAB_GRADIENT_WORKER = join(dirname(here), BUNDLED_ENTRIES.gradientWorker);
  return bundledHostLaunch(dirname(here));
}

function main(): void {
  // After the parent disconnects, close() still emits status events: send() drops them, there is no one to tell.
  // Annotated, so that TypeScript knows parent.fail() never returns.
  const parent: ParentChannel<LabProcessEvent> = connectToParent('lab process');
  const { send } = parent;
  const dbPath = process.argv[2];
  if (!dbPath) parent.fail('lab process started without a database path');
  let service: LabService;
  try {
    service = new LabService({ dbPath, host: hostLaunch() });
  } catch (error) {
    parent.fail(describeStartupError(error));
  }
  service.subscribe((event) => send({ type: 'event', event }));
  process.on('message', (raw) => {
    const parsed = labCallSchema.safeParse(raw);
    if (!parsed.success) {
      process.stderr.write('gpt-lab lab process: ignored a malformed message\n');
      return;
    }
    const { id, name, payload } = parsed.data;
    void dispatch(service, name, payload).then((result) => send({ type: 'result', id, result }));
  });
  // The parent going away (window closed, crash) ends the lab: checkpoint the current run, then exit.
  process.on('disconnect', () => void service.close().finally(() => process.exit(0)));
  service.warmUp();
  send({ type: 'ready' });
}

main();

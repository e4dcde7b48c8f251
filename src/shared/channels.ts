/**
 * The one place channel names are defined. Every call of the lab API is a member of `Channel` and every pushed
 * event a member of `EventChannel`; IPC, HTTP (`POST /api/<call>`), the WebSocket and the preload all use these.
 * Kept free of imports so the sandboxed preload can bundle it without pulling in anything else.
 */

/** IPC channel of each call; the key is also the call's name in `LabApi` and its HTTP path. */
export const Channel = {
  backendInfo: 'lab:backendInfo',
  configDefaults: 'lab:configDefaults',
  listSchemes: 'lab:listSchemes',
  listBuiltins: 'lab:listBuiltins',
  addText: 'lab:addText',
  validateConfig: 'lab:validateConfig',
  startRun: 'lab:startRun',
  finetuneRun: 'lab:finetuneRun',
  stopRun: 'lab:stopRun',
  pauseRun: 'lab:pauseRun',
  resumeRun: 'lab:resumeRun',
  queueState: 'lab:queueState',
  listRuns: 'lab:listRuns',
  getRun: 'lab:getRun',
  renameRun: 'lab:renameRun',
  annotateRun: 'lab:annotateRun',
  deleteRun: 'lab:deleteRun',
  metrics: 'lab:metrics',
  samples: 'lab:samples',
  evalLength: 'lab:evalLength',
  probe: 'lab:probe',
  startSweep: 'lab:startSweep',
  listWorkers: 'lab:listWorkers',
  exportRun: 'lab:exportRun',
  taskLength: 'lab:taskLength',
  latestEvals: 'lab:latestEvals',
  schemePreview: 'lab:schemePreview',
  listRecipes: 'lab:listRecipes',
  runRecipe: 'lab:runRecipe',
  sampleText: 'lab:sampleText',
  exportModel: 'lab:exportModel',
  importModel: 'lab:importModel',
} as const;

export type CallName = keyof typeof Channel;
export const CALL_NAMES = Object.keys(Channel) as CallName[];

/** Events pushed to every connected client (IPC `webContents.send`, WebSocket messages `{ channel, payload }`). */
export const EventChannel = {
  /** New metric rows of a training run, batched (a few per second at most). */
  metrics: 'run:metrics',
  /** A text sample generated during training. */
  sample: 'run:sample',
  /** A run changed status (queued, running, paused, completed, stopped, interrupted, diverged, failed). */
  status: 'run:status',
  /** A run was renamed or deleted. */
  runsChanged: 'runs:changed',
  /** Which run trains now and which wait. */
  queue: 'queue',
  /** A command from the desktop app's menu (Electron only). */
  uiCommand: 'ui:command',
  /** An evaluation, probe or recipe in the analysis host started, reported progress, finished or failed. */
  job: 'job',
  /** One token of a sampleText call, as soon as it is generated (the Playground streams them). */
  sampleToken: 'sample:token',
} as const;

export type EventName = keyof typeof EventChannel;
export type EventChannelName = (typeof EventChannel)[EventName];
export const EVENT_CHANNELS = Object.values(EventChannel) as EventChannelName[];

export function isCallName(name: string): name is CallName {
  return Object.hasOwn(Channel, name);
}

/** The name under which the preload exposes the lab on `window` (Electron only). */
export const BRIDGE_KEY = 'gptLab';
/** The one extra function the bridge has beside the calls: subscribe to events. */
export const BRIDGE_EVENTS_KEY = 'onEvent';

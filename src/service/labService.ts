/**
 * LabService, the facade: the contract of src/shared/api.ts over the lab's use-cases (src/lab) and the store. It
 * validates and queues runs but never trains: training happens in a training host process (src/hosts/training) that
 * this service starts through its client and feeds one run at a time from its queue (runQueue.ts), and that the
 * supervisor replaces if it dies; everything the host reports is re-emitted as contract events to every
 * subscriber (windows, WebSocket clients). Evaluations, probes and recipes run in the analysis host (src/hosts/analysis).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import type { BackendInfo, BackendName } from '../engine/backend';
import { ConfigError, DEFAULT_CONFIG, NORM_PLACEMENTS, NORM_TYPES, PRESETS, PRESET_NAMES, resolveConfig, type RunConfig } from '../engine/config';
import { BUILTIN_CORPORA, builtinPreview, describeBuiltin } from '../engine/data/builtin';
import { DataError } from '../engine/data/errors';
import { SCHEMES } from '../engine/model/positional/registry';
import type { PositionalScheme } from '../engine/model/positional/types';
import { RunStore, describeOwner, ownerIsAlive, type RunRecord, type RunStatus } from '../store';
import { pidExists } from '../store/owner';
import {
  CALLS,
  LabError,
  recipeResultSchema,
  taskLengthResultSchema,
  type BuiltinInfo,
  type CallRequest,
  type CallResponse,
  type ConfigDefaults,
  type ConfigOverrides,
  type ConfigProblemData,
  type EvalLengthResultData,
  type JobEvent,
  type RecipeInfo,
  type RecipeResultData,
  type LabApi,
  type LabEvent,
  type LabEventListener,
  type QueueState,
  type RunInfo,
  type SchemeInfo,
} from '../shared/api';
import { AnalysisHostClient, JobError } from '../hosts/analysis/client';
import type { AnalysisJob } from '../hosts/analysis/protocol';
import { sourceHostLaunch, type HostLaunch } from '../hosts/launch';
import type { ChildExit } from '../hosts/supervisor';
import { TrainingHostClient, type TrainingHostPort } from '../hosts/training/client';
import type { HostCommand, HostEvent } from '../hosts/training/protocol';
import { BUILTIN_DATA_SEED, builtinTextPreview, isFileSource } from '../lab/corpusLoader';
import { BUILTIN_TEXTS, BUILTIN_TEXT_NAMES } from '../engine/data/textCorpora';
import { allowedDataSource, type WebDataRule } from '../lab/dataAccess';
import { DataFileReader } from '../lab/dataFile';
import { createFinetuneRun, FinetuneError, type FinetuneRun } from '../lab/finetune';
import { storeText } from '../lab/uploadedTexts';
import { exportRunFile } from '../lab/export';
import { newestLengthEvals } from '../lab/lengthEvals';
import { ModelFormatError } from '../engine/interop/gpt2';
import { exportRunModel, importRunModel, ModelTransferError } from '../lab/modelTransfer';
import type { SweepCoordinator } from '../lab/queuedSweep';
import { prepareRun, runRowOf, type PreparedRun } from '../lab/prepare';
import { SweepCellsError, SweepGridError, expandGrid, finishedCell, prepareSweep, type SweepCell } from '../lab/sweeps';
import { schemePreview } from '../lab/schemePreview';
import { seedRuns } from '../lab/seedGroup';
import { RunQueue } from './runQueue';

export interface LabServiceOptions {
  dbPath: string;
  host?: HostLaunch;
  /** Force a backend in the host (default: the ladder, best first). */
  backend?: BackendName;
  /** Pass the host's stderr through to ours (default true); it is also kept to explain a host that fails. */
  echoHostStderr?: boolean;
  /** How long close() lets a running step finish and its checkpoint be written before killing the host. */
  shutdownTimeoutMs?: number;
  /** How long a host may take to load its backend before it counts as failed (the supervisor's ready timeout). */
  hostStartTimeoutMs?: number;
  /** Web mode: which data sources clients may name (dataAccess.ts); absent for the desktop app, which allows any file. */
  webData?: WebDataRule;
  /** Trains through this host instead of forking one (the CLI: `InProcessTrainingHost`, src/hosts/training/inProcess.ts). */
  trainingHost?: TrainingHostPort;
  /**
   * Whether this service is the lab instance of its database (default true): it then takes the runs a previous
   * instance left running or queued for crashed. A CLI command is a visitor beside a GPT Lab that may be open.
   */
  claimDatabase?: boolean;
}

/** What the queue hands the training host for a run: train it from the start, or continue it. */
type RunCommand = Extract<HostCommand, { type: 'train' | 'continue' }>;

/** What a `job` event says of its job besides its state. */
type JobInfo = Omit<JobEvent, 'state' | 'message'>;

/**
 * The recipe catalogue, loaded on first use: recipes.ts also holds the recipes' training code, which runs in the
 * analysis host, so this module (and Electron main, which may load it) stays free of the trainer.
 */
const recipeCatalogue = async () => (await import('../lab/recipes')).RECIPES;
const CONTINUABLE: readonly RunStatus[] = ['interrupted', 'stopped', 'failed'];
const LIVE: readonly RunStatus[] = ['running', 'paused'];

export class LabService implements LabApi {
  /** A visitor's is opened on first use, so a command whose settings are refused leaves no database behind (`store`). */
  private openedStore: RunStore | null = null;
  private storeClosed = false;
  private readonly listeners = new Set<LabEventListener>();
  private readonly queue = new RunQueue<RunCommand>((_runId, command) => {
    // A host that cannot start fails the run through onHostExit, which names why.
    this.host.start().catch(() => undefined);
    this.host.send(command);
  });
  private readonly host: TrainingHostPort;
  private readonly analysis: AnalysisHostClient;
  private backend: BackendInfo | null = null;
  private closing = false;
  private builtins: BuiltinInfo[] | null = null;
  /** Recipe results of this session, newest per recipe (those without runs are not stored in the database). */
  private readonly recipeResults = new Map<string, RecipeResultData>();
  private readonly dataFiles = new DataFileReader();
  private readonly lockPath: string | null;
  /** Distributed sweeps: one coordinator per queue URL (src/lab/queuedSweep.ts). */
  private readonly coordinators = new Map<string, Promise<SweepCoordinator>>();

  constructor(private readonly options: LabServiceOptions) {
    const launch: HostLaunch = options.host ?? sourceHostLaunch();
    const hostOptions = { launch, dbPath: options.dbPath, backend: options.backend, echoStderr: options.echoHostStderr, readyTimeoutMs: options.hostStartTimeoutMs };
    this.host = options.trainingHost ?? new TrainingHostClient({ ...hostOptions, shutdownTimeoutMs: options.shutdownTimeoutMs });
    this.host.onEvent((event) => this.onHostEvent(event));
    this.host.onExit((exit) => this.onHostExit(exit));
    this.analysis = new AnalysisHostClient(hostOptions);
    if (options.claimDatabase !== false) {
      this.openedStore = RunStore.open(options.dbPath);
      this.lockPath = claimDatabase(options.dbPath);
      if (this.lockPath) this.recoverAfterCrash();
    } else this.lockPath = null;
  }

  /** The lab instance opens its database at once (it recovers it); a visitor when it first reads or writes a run. */
  private get store(): RunStore {
    // After close() nothing may open the database again (a late event, a call in flight).
    if (this.storeClosed) throw new LabError('conflict', 'GPT Lab is shut down; its database is closed');
    this.openedStore ??= RunStore.open(this.options.dbPath);
    return this.openedStore;
  }

  /** Starts the training host now, so the backend is known and the first run starts without delay. */
  warmUp(): void {
    this.host.start().catch(() => undefined);
  }

  subscribe(listener: LabEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The training host's process id while one runs (for tests and diagnostics). */
  get hostPid(): number | undefined {
    return this.host.pid;
  }

  /** Stops the current run cleanly (checkpoint kept), shuts the host down, and closes the store. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const runId of this.queue.close()) this.setStatus(runId, 'interrupted', 'GPT Lab closed before this run started');
    await this.analysis.stop();
    await this.host.stop();
    for (const coordinator of this.coordinators.values()) await coordinator.then((c) => c.close(), () => undefined);
    this.storeClosed = true;
    this.openedStore?.close();
    if (this.lockPath) releaseDatabase(this.lockPath);
    this.listeners.clear();
  }

  // ------------------------------------------------------------ contract: configuration

  async backendInfo(): Promise<CallResponse<'backendInfo'>> {
    if (this.backend) return this.backend;
    try {
      return await this.host.start();
    } catch (error) {
      throw new LabError('host-failed', error instanceof Error ? error.message : String(error));
    }
  }

  async configDefaults(): Promise<ConfigDefaults> {
    return {
      defaults: { ...DEFAULT_CONFIG, posOptions: {} } as ConfigDefaults['defaults'],
      presets: PRESET_NAMES.map((name) => ({ name, ...PRESETS[name] })),
      normPlacements: [...NORM_PLACEMENTS],
      normTypes: [...NORM_TYPES],
      cores: availableParallelism(),
    };
  }

  async listSchemes(): Promise<SchemeInfo[]> {
    return SCHEMES.map(schemeInfo);
  }

  async listBuiltins(): Promise<BuiltinInfo[]> {
    this.builtins ??= [
      ...BUILTIN_CORPORA.map((name) => ({
        name,
        source: `builtin:${name}`,
        description: describeBuiltin(name),
        preview: builtinPreview(name, BUILTIN_DATA_SEED),
      })),
      ...BUILTIN_TEXT_NAMES.map((name) => ({ name, source: `builtin:${name}`, description: BUILTIN_TEXTS[name].description, preview: builtinTextPreview(name) })),
    ];
    return this.builtins;
  }

  async addText({ name, base64 }: CallRequest<'addText'>): Promise<CallResponse<'addText'>> {
    this.assertOpen();
    return storeText(this.store, name, Buffer.from(base64, 'base64'));
  }

  async validateConfig({ config }: CallRequest<'validateConfig'>): Promise<CallResponse<'validateConfig'>> {
    try {
      return { problems: [], config: (await this.prepare(config)).config as RunInfo['config'] };
    } catch (error) {
      const problems = configProblems(error);
      if (!problems) throw error;
      return { problems, config: null };
    }
  }

  // ------------------------------------------------------------ contract: training

  async startRun({ config, name, seeds }: CallRequest<'startRun'>): Promise<CallResponse<'startRun'>> {
    this.assertOpen();
    const prepared = await this.prepare(config, name);
    if (seeds === undefined || seeds === 1) {
      const runId = this.enqueueNew(prepared);
      this.emitQueue();
      this.pump();
      return { runId, status: 'queued' };
    }
    let group: PreparedRun[];
    try {
      group = seedRuns(prepared, seeds);
    } catch (error) {
      const problems = configProblems(error);
      if (!problems) throw error;
      throw new LabError('invalid-config', `seeds ${prepared.config.seed}…${prepared.config.seed + seeds - 1}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
    }
    const runIds = group.map((run) => this.enqueueNew(run));
    this.emitQueue();
    this.pump();
    return { runId: runIds[0]!, status: 'queued', runIds };
  }

  async finetuneRun({ runId, blockSize, steps, lr, ropeScaling, name }: CallRequest<'finetuneRun'>): Promise<CallResponse<'finetuneRun'>> {
    this.assertOpen();
    const { dataSource } = this.requireRun(runId);
    // The parent's data file is read again: in web mode it must still be one clients may name.
    const fileText = isFileSource(dataSource) ? await this.dataFiles.text(allowedDataSource(dataSource, process.cwd(), this.options.webData)) : undefined;
    let child: FinetuneRun;
    try {
      child = createFinetuneRun(this.store, { parentId: runId, blockSize, steps, lr, ropeScaling, name }, this.store, fileText);
    } catch (error) {
      if (!(error instanceof FinetuneError)) throw error;
      throw new LabError(error.reason === 'unknown-run' ? 'not-found' : error.reason === 'invalid' ? 'invalid-request' : 'conflict', error.message);
    }
    // The child trains as a stopped run continues: from its checkpoint, which holds the parent's weights.
    this.queue.add(child.runId, { type: 'continue', runId: child.runId });
    this.emit({ channel: 'runs:changed', payload: { runId: child.runId, change: 'created' } });
    this.emit({ channel: 'run:status', payload: { runId: child.runId, status: 'queued', lastStep: 0, error: null } });
    this.emitQueue();
    this.pump();
    return { runId: child.runId, status: 'queued' };
  }

  async startSweep({ grid, config, name, queue }: CallRequest<'startSweep'>): Promise<CallResponse<'startSweep'>> {
    this.assertOpen();
    let cells: SweepCell[];
    try {
      const fileTexts = new Map<string, string>();
      cells = await prepareSweep(expandGrid(config, grid, name), (cell) => this.prepare(cell.overrides, cell.name, fileTexts), (error) => configProblems(error) !== undefined);
    } catch (error) {
      if (error instanceof SweepGridError) throw new LabError('invalid-request', error.message);
      if (!(error instanceof SweepCellsError)) throw error;
      const problems = error.failures.flatMap(({ cell, error: why }) => configProblems(why)!.map((p) => ({ field: p.field, message: `${cell.pos} · ${cell.norm}-norm · dropout ${cell.dropout}: ${p.message}` })));
      throw new LabError('invalid-config', `the sweep has invalid runs; none were queued\n${problems.map((p) => `${p.field}: ${p.message}`).join('\n')}`, problems);
    }
    // One key for the whole grid (src/lab/sweeps.ts); a cell this key already finished is not trained again.
    const sweepKey = cells[0]!.sweepKey;
    const stored = this.store.findRunsBySweepKey(sweepKey);
    const finished = cells.map((cell) => finishedCell(stored, cell.prepared.config));
    const toTrain = cells.filter((_, i) => finished[i] === undefined);
    // The workers train; this service stays the one writer of the store (src/lab/queuedSweep.ts).
    const trained = queue !== undefined ? await (await this.coordinatorFor(queue)).submit(toTrain) : toTrain.map((cell) => this.enqueueNew(cell.prepared));
    if (queue === undefined) {
      this.emitQueue();
      this.pump();
    }
    return { sweepKey, runIds: finished.map((runId) => runId ?? trained.shift()!) };
  }

  async stopRun({ runId }: CallRequest<'stopRun'>): Promise<CallResponse<'stopRun'>> {
    const run = this.requireRun(runId);
    if (this.queue.remove(runId)) {
      this.setStatus(runId, 'stopped', null);
      this.emitQueue();
      return { runId, status: 'stopped' };
    }
    if (this.queue.running !== runId) throw new LabError('conflict', `run ${runId} is not running (it is ${run.status})`);
    const done = this.host.waitFor((e) => e.type === 'done' && e.runId === runId, 30_000);
    this.host.send({ type: 'stop', runId });
    await done;
    return { runId, status: this.requireRun(runId).status };
  }

  async pauseRun({ runId }: CallRequest<'pauseRun'>): Promise<CallResponse<'pauseRun'>> {
    const run = this.requireRun(runId);
    if (this.queue.running !== runId) throw new LabError('conflict', `run ${runId} is not running (it is ${run.status}); only a running run can be paused`);
    if (run.status === 'paused') return { runId, status: 'paused' };
    const paused = this.host.waitFor((e) => e.runId === runId && ((e.type === 'status' && e.status === 'paused') || e.type === 'done'), 5_000);
    this.host.send({ type: 'pause', runId });
    await paused;
    return { runId, status: this.requireRun(runId).status };
  }

  async resumeRun({ runId }: CallRequest<'resumeRun'>): Promise<CallResponse<'resumeRun'>> {
    const run = this.requireRun(runId);
    if (this.queue.running === runId) {
      if (run.status !== 'paused') return { runId, status: run.status };
      const resumed = this.host.waitFor((e) => e.runId === runId && ((e.type === 'status' && e.status === 'running') || e.type === 'done'), 5_000);
      this.host.send({ type: 'resume', runId });
      await resumed;
      return { runId, status: this.requireRun(runId).status };
    }
    if (this.queue.isWaiting(runId)) return { runId, status: 'queued' };
    if (!CONTINUABLE.includes(run.status)) {
      const why = run.status === 'completed' ? 'it already completed' : run.status === 'diverged' ? 'it diverged; start a new run with a lower learning rate' : `it is ${run.status}`;
      throw new LabError('conflict', `run ${runId} cannot be continued: ${why}`);
    }
    this.assertOpen();
    this.queue.add(runId, { type: 'continue', runId });
    this.setStatus(runId, 'queued', null);
    this.emitQueue();
    this.pump();
    return { runId, status: 'queued' };
  }

  async listWorkers({ queue }: CallRequest<'listWorkers'>): Promise<CallResponse<'listWorkers'>> {
    return (await this.coordinatorFor(queue)).workers();
  }

  async queueState(): Promise<QueueState> {
    return this.queue.state;
  }

  // ------------------------------------------------------------ contract: runs

  async listRuns(): Promise<RunInfo[]> {
    return this.store.listRuns().map(runInfo);
  }

  async getRun({ runId }: CallRequest<'getRun'>): Promise<RunInfo> {
    return runInfo(this.requireRun(runId));
  }

  async renameRun({ runId, name }: CallRequest<'renameRun'>): Promise<RunInfo> {
    this.requireRun(runId);
    this.store.renameRun(runId, name);
    this.emit({ channel: 'runs:changed', payload: { runId, change: 'renamed' } });
    return runInfo(this.requireRun(runId));
  }

  async annotateRun({ runId, tags, notes }: CallRequest<'annotateRun'>): Promise<RunInfo> {
    this.requireRun(runId);
    this.store.annotateRun(runId, [...new Set(tags)], notes);
    this.emit({ channel: 'runs:changed', payload: { runId, change: 'annotated' } });
    return runInfo(this.requireRun(runId));
  }

  async deleteRun({ runId }: CallRequest<'deleteRun'>): Promise<{ runId: number }> {
    const run = this.requireRun(runId);
    if (this.queue.running === runId) throw new LabError('conflict', `run ${runId} is training; stop it before deleting it`);
    if (LIVE.includes(run.status) && ownerIsAlive(run.ownerPid, run.ownerTag))
      throw new LabError('conflict', `run ${runId} is ${run.status} in ${describeOwner(run.ownerPid!, run.ownerTag)} (a CLI or another GPT Lab); stop it there before deleting it`);
    const wasQueued = this.queue.remove(runId);
    this.store.deleteRun(runId);
    this.emit({ channel: 'runs:changed', payload: { runId, change: 'deleted' } });
    if (wasQueued) this.emitQueue();
    return { runId };
  }

  async metrics({ runId, sinceStep }: CallRequest<'metrics'>): Promise<CallResponse<'metrics'>> {
    this.requireRun(runId);
    return this.store.metrics(runId, sinceStep ?? -1);
  }

  async samples({ runId }: CallRequest<'samples'>): Promise<CallResponse<'samples'>> {
    this.requireRun(runId);
    return this.store.samples(runId);
  }

  async exportRun({ runId, format }: CallRequest<'exportRun'>): Promise<CallResponse<'exportRun'>> {
    const run = this.requireRun(runId);
    return exportRunFile(run, this.store.metrics(runId), this.store.samples(runId), format);
  }

  // ------------------------------------------------------------ contract: analysis

  async evalLength({ runId, lengths, ropeScaling }: CallRequest<'evalLength'>): Promise<EvalLengthResultData> {
    this.requireRun(runId);
    const job = { kind: 'evalLength' as const, runId, ...(lengths ? { lengths } : {}), ...(ropeScaling ? { ropeScaling } : {}) };
    return this.runJob(job, `extrapolation of run ${runId}${ropeScaling ? ` (rope scaling ${ropeScaling})` : ''}`, runId);
  }

  async taskLength({ runId, sizes }: CallRequest<'taskLength'>): Promise<CallResponse<'taskLength'>> {
    this.requireRun(runId);
    return this.runJob({ kind: 'taskLength', runId, ...(sizes ? { sizes } : {}) }, `task accuracy of run ${runId}`, runId);
  }

  async probe({ runId, kind, text }: CallRequest<'probe'>): Promise<CallResponse<'probe'>> {
    if (runId !== null) this.requireRun(runId);
    const label = runId === null ? `${kind} probe on fresh weights` : `${kind} probe of run ${runId}`;
    return this.runJob({ kind: 'probe', runId, probeKind: kind, ...(text !== undefined ? { text } : {}) }, label, runId ?? undefined);
  }

  async latestEvals({ runIds }: CallRequest<'latestEvals'>): Promise<CallResponse<'latestEvals'>> {
    const newest = <T>(runId: number, kind: string, schema: { safeParse(v: unknown): { success: boolean; data?: T } }): T[] => {
      const row = this.store.getRun(runId) ? this.store.evals(runId, kind).at(-1) : undefined;
      const parsed = row ? schema.safeParse(row.payload) : undefined;
      return parsed?.success ? [parsed.data as T] : [];
    };
    return {
      length: runIds.flatMap((id) => newestLengthEvals(this.store.getRun(id) ? this.store.evals(id, 'length') : [])),
      taskLength: runIds.flatMap((id) => newest(id, 'task-length', taskLengthResultSchema)),
    };
  }

  async schemePreview(request: CallRequest<'schemePreview'>): Promise<CallResponse<'schemePreview'>> {
    return schemePreview(request);
  }

  async listRecipes(): Promise<RecipeInfo[]> {
    const recipes = await recipeCatalogue();
    const stored = new Map<string, { at: number; result: RecipeResultData }>();
    for (const run of this.store.listRuns()) {
      for (const row of this.store.evals(run.id, 'recipe')) {
        const parsed = recipeResultSchema.safeParse(row.payload);
        if (!parsed.success) continue;
        const before = stored.get(parsed.data.recipe);
        if (!before || before.at < row.createdAt) stored.set(parsed.data.recipe, { at: row.createdAt, result: parsed.data });
      }
    }
    return recipes.map(({ name, version, title, claim }) => {
      const found = this.recipeResults.get(name) ?? stored.get(name)?.result;
      return { name, version, title, claim, lastResult: found && found.version === version ? found : null };
    });
  }

  async runRecipe({ name, quick }: CallRequest<'runRecipe'>): Promise<CallResponse<'runRecipe'>> {
    if (!(await recipeCatalogue()).some((r) => r.name === name)) throw new LabError('not-found', `no recipe named ${JSON.stringify(name)}; see listRecipes`);
    const result = await this.runJob<RecipeResultData>({ kind: 'runRecipe', name, quick }, `recipe ${name}${quick ? ' (quick)' : ''}`);
    this.recipeResults.set(name, result);
    return result;
  }

  // ------------------------------------------------------------ contract: models in and out

  async sampleText(request: CallRequest<'sampleText'>): Promise<CallResponse<'sampleText'>> {
    if (!this.store.getRun(request.runId)) throw new LabError('not-found', `run ${request.runId} does not exist`);
    return this.runJob({ kind: 'sampleText', ...request }, `sampling run ${request.runId}`, request.runId, request.streamId);
  }

  async exportModel({ runId, dir }: CallRequest<'exportModel'>): Promise<CallResponse<'exportModel'>> {
    if (!this.store.getRun(runId)) throw new LabError('not-found', `run ${runId} does not exist`);
    try {
      return exportRunModel(this.store, runId, this.resolvePath(dir), this.options.dbPath);
    } catch (error) {
      throw error instanceof ModelTransferError ? new LabError('conflict', error.message) : error;
    }
  }

  async importModel({ dir }: CallRequest<'importModel'>): Promise<CallResponse<'importModel'>> {
    try {
      const { runId, layout } = importRunModel(this.store, this.resolvePath(dir));
      this.emit({ channel: 'runs:changed', payload: { runId, change: 'created' } });
      return { runId, layout };
    } catch (error) {
      throw error instanceof ModelTransferError || error instanceof ModelFormatError ? new LabError('invalid-request', error.message) : error;
    }
  }

  /** As for data files: the lab's folder is not the user's, so a directory typed in the UI must be absolute. */
  private resolvePath(path: string): string {
    if (!isAbsolute(path)) throw new LabError('invalid-request', `directory ${JSON.stringify(path)} is relative: type an absolute path`);
    return path;
  }

  // ------------------------------------------------------------ the analysis host

  /**
   * Hands a job to the analysis host and resolves with its result, checked against the call's response schema.
   * `job` events say when it waits, runs, reports progress, and ends.
   */
  private async runJob<T>(job: AnalysisJob, label: string, runId?: number, streamId?: string): Promise<T> {
    this.assertOpen();
    const id = this.analysis.nextId();
    const info: JobInfo = runId === undefined ? { id, kind: job.kind, label } : { id, kind: job.kind, label, runId };
    this.emit({ channel: 'job', payload: { ...info, state: 'queued' } });
    let value: unknown;
    try {
      value = await this.analysis.run(id, job, {
        started: () => this.emit({ channel: 'job', payload: { ...info, state: 'running' } }),
        progress: (message) => this.emit({ channel: 'job', payload: { ...info, state: 'progress', message } }),
        token: (index, token) => {
          if (runId !== undefined) this.emit({ channel: 'sample:token', payload: { runId, streamId, index, token } });
        },
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.emit({ channel: 'job', payload: { ...info, state: 'failed', message } });
      throw new LabError(error instanceof JobError && error.hostGone ? 'host-failed' : 'conflict', message);
    }
    this.emit({ channel: 'job', payload: { ...info, state: 'done' } });
    const parsed = CALLS[job.kind].response.safeParse(value);
    if (!parsed.success) throw new LabError('internal', `the analysis host sent a malformed ${job.kind} result`);
    return parsed.data as T;
  }

  // ------------------------------------------------------------ the queue and the host

  /** Runs a previous session left running or queued can only have been interrupted: no host of ours is alive. */
  private recoverAfterCrash(): void {
    this.store.markInterrupted();
    for (const run of this.store.listRuns())
      if (run.status === 'queued') this.store.updateRun(run.id, { status: 'interrupted', error: 'GPT Lab closed before this run started' });
  }

  /**
   * Validates overrides and loads the data; throws ConfigError or DataError before anything is written. A data file
   * is read without blocking the event loop, and again only once it changes (`dataFiles`: New run validates on every
   * edit); `fileTexts` shares one read across the cells of a sweep.
   */
  private async prepare(overrides: ConfigOverrides, name?: string, fileTexts = new Map<string, string>()): Promise<PreparedRun> {
    const config = { ...overrides } as Partial<RunConfig> & { preset?: 'nano' | 'micro' | 'mini' };
    // The lab's folder is not the user's: a path typed in the UI must be absolute (or picked, or uploaded).
    if (typeof config.data === 'string' && config.data.trim() !== '' && isFileSource(config.data) && !isAbsolute(config.data))
      throw new DataError('relative-path', `data file path ${JSON.stringify(config.data)} is relative: type an absolute path, or pick or drop the file`);
    if (typeof config.data === 'string' && config.data.trim() !== '') config.data = allowedDataSource(config.data, process.cwd(), this.options.webData);
    // Settings first, as the CLI reports them, before any file is opened.
    const { data } = resolveConfig(config);
    let fileText: string | undefined;
    if (isFileSource(data)) {
      fileText = fileTexts.get(data) ?? (await this.dataFiles.text(data));
      fileTexts.set(data, fileText);
    }
    // Texts are looked up in the store only when a run names one, so refused settings open no database.
    return prepareRun({ config, name }, { getText: (id) => this.store.getText(id) }, fileText);
  }

  private enqueueNew(prepared: PreparedRun): number {
    const { config, name, sweepKey } = prepared;
    const runId = this.store.createRun({ ...runRowOf(prepared), status: 'queued' });
    this.queue.add(runId, { type: 'train', runId, input: { config: config as ConfigOverrides, name, sweepKey } });
    this.emit({ channel: 'runs:changed', payload: { runId, change: 'created' } });
    this.emit({ channel: 'run:status', payload: { runId, status: 'queued', lastStep: 0, error: null } });
    return runId;
  }

  /** Hands the next queued run to the host when it is free. */
  private pump(): void {
    if (this.queue.pump() !== null) this.emitQueue();
  }

  private onHostEvent(event: HostEvent): void {
    switch (event.type) {
      case 'ready':
        this.backend = event.backend;
        return;
      case 'metrics':
        this.emit({ channel: 'run:metrics', payload: { runId: event.runId, rows: event.rows } });
        return;
      case 'sample':
        this.emit({ channel: 'run:sample', payload: { runId: event.runId, step: event.step, prompt: event.prompt, text: event.text } });
        return;
      case 'status':
        this.emit({ channel: 'run:status', payload: { runId: event.runId, status: event.status } });
        return;
      case 'done':
        this.queue.finished(event.runId);
        this.emit({ channel: 'run:status', payload: { runId: event.runId, status: event.status, lastStep: event.lastStep, error: event.error } });
        this.emitQueue();
        this.pump();
        return;
      case 'rejected':
        // A run handed over to train but refused would otherwise wait forever.
        if (event.runId !== undefined && event.runId === this.queue.running && this.store.getRun(event.runId)?.status === 'queued') {
          this.queue.finished(event.runId);
          this.setStatus(event.runId, 'failed', `the training host refused the run: ${event.reason}`);
          this.emitQueue();
          this.pump();
        } else {
          process.stderr.write(`gpt-lab: the training host refused a request: ${event.reason}\n`);
        }
        return;
      default:
    }
  }

  /**
   * The host is gone (the supervisor restarts it after a crash). A run it was training without saying 'done' was
   * interrupted (it can continue from its last checkpoint); when the host never got ready (no backend, bad install)
   * the queued runs cannot train either.
   */
  private onHostExit(exit: ChildExit): void {
    const runId = this.queue.abandon();
    if (runId !== null) {
      const run = this.store.getRun(runId);
      if (run && (LIVE.includes(run.status) || run.status === 'queued'))
        this.setStatus(runId, exit.startupFailure ? 'failed' : 'interrupted', exit.startupFailure ?? `the training host ${exit.why} during the run`);
    }
    if (exit.startupFailure) for (const queued of this.queue.drain()) this.setStatus(queued, 'failed', exit.startupFailure);
    this.emitQueue();
    this.pump();
  }

  // ------------------------------------------------------------ helpers

  /** One coordinator per queue URL, connected on first use; a failed connection is forgotten so a retry can work. */
  private coordinatorFor(url: string): Promise<SweepCoordinator> {
    this.assertOpen();
    const known = this.coordinators.get(url);
    if (known) return known;
    const connecting = (async () => {
      // The queue client (bullmq, ioredis) loads only for a queued sweep: the CLI's `train` starts without it.
      const [{ SweepCoordinator, storeTagOf }, { redisOptionsOf }] = await Promise.all([import('../lab/queuedSweep'), import('../worker/connection')]);
      let redis;
      try {
        redis = redisOptionsOf(url);
      } catch (error) {
        throw new LabError('invalid-request', (error as Error).message);
      }
      return SweepCoordinator.connect(this.store, {
        redis,
        storeTag: storeTagOf(this.options.dbPath),
        log: (message) => process.stderr.write(`gpt-lab queue: ${message}\n`),
        onStatus: (runId, status, error) => this.emit({ channel: 'run:status', payload: { runId, status: status as RunStatus, error } }),
      }).catch((error: unknown) => {
        throw error instanceof LabError ? error : new LabError('conflict', error instanceof Error ? error.message : String(error));
      });
    })();
    this.coordinators.set(url, connecting);
    connecting.catch(() => this.coordinators.delete(url));
    return connecting;
  }

  private setStatus(runId: number, status: RunStatus, error?: string | null): void {
    try {
      const patch = LIVE.includes(status) || status === 'queued' ? { status, error } : { status, error, finishedAt: Date.now() };
      this.store.updateRun(runId, patch);
      this.emit({ channel: 'run:status', payload: { runId, status, error: error ?? null } });
    } catch {
      // The run was deleted meanwhile: nothing to mark.
    }
  }

  private requireRun(runId: number): RunRecord {
    const run = this.store.getRun(runId);
    if (!run) throw new LabError('not-found', `run ${runId} does not exist`);
    return run;
  }

  private assertOpen(): void {
    if (this.closing) throw new LabError('conflict', 'GPT Lab is shutting down; no new runs');
  }

  private emitQueue(): void {
    this.emit({ channel: 'queue', payload: this.queue.state });
  }

  private emit(event: LabEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        process.stderr.write(`gpt-lab: an event listener failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  }
}

/**
 * Marks this process as the lab instance of a database file (`<db>.lab-pid`), so that a second instance on the same
 * file does not take the first one's live runs for crashed ones. Returns the lock path when this process owns the
 * database, null when another live instance does (or the database is in memory).
 */
function claimDatabase(dbPath: string): string | null {
  if (dbPath === ':memory:') return null;
  const lockPath = `${dbPath}.lab-pid`;
  try {
    const pid = Number(readFileSync(lockPath, 'utf8'));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidExists(pid)) {
      process.stderr.write(`gpt-lab: another GPT Lab (process ${pid}) uses ${dbPath}; its runs are left as they are\n`);
      return null;
    }
  } catch {
    // No lock yet.
  }
  writeFileSync(lockPath, String(process.pid));
  return lockPath;
}

function releaseDatabase(lockPath: string): void {
  try {
    if (Number(readFileSync(lockPath, 'utf8')) === process.pid) rmSync(lockPath, { force: true });
  } catch {
    // Already gone.
  }
}

function schemeInfo(scheme: PositionalScheme): SchemeInfo {
  const probe = 1024;
  const max = scheme.maxLength(probe);
  const factor = Number.isFinite(max) ? max / probe : null;
  const maxLengthNote =
    factor === null
      ? 'works at any length (computed at run time)'
      : factor === 1
        ? 'only up to the training block size; longer is not applicable'
        : `up to ${factor}× the training block size`;
  return { name: scheme.name, label: scheme.label, summary: scheme.summary, hook: scheme.hook, knobs: scheme.knobs.map((k) => ({ ...k })), maxLengthFactor: factor, maxLengthNote };
}

/** The problems a config or data error names; undefined for other errors. */
function configProblems(error: unknown): ConfigProblemData[] | undefined {
  if (error instanceof ConfigError) return error.problems;
  if (error instanceof DataError) return [{ field: 'data', message: error.message }];
  return undefined;
}

function runInfo(run: RunRecord): RunInfo {
  const { vocab: _vocab, ...rest } = run;
  return { ...rest, config: run.config as RunInfo['config'], backend: run.backend as RunInfo['backend'] };
}

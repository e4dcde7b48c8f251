/**
 * The lab's contract: for every call a request and a response schema, for every event a payload schema, and the
 * `LabApi` interface derived from them. Electron main, the web server, the training host's parent (LabService) and
 * the renderer's client all use these; nothing else defines a channel or a payload shape.
 *
 * Requests are validated with these schemas on the receiving side (main, server) before the service sees them.
 * Config *values* (ranges, scheme knobs, data) are checked by the engine's validateConfig, so the UI and CLI get
 * the same messages; the schemas here check shape and types.
 *
 * Kept free of engine and store imports (which pull in tfjs and better-sqlite3): the renderer bundles this file.
 * test/shared checks that the enums repeated here match the engine's and the store's.
 */
import { z } from 'zod';
import { EventChannel, type CallName, type EventName } from './channels';
import { MAX_NAME_LENGTH, MAX_SEEDS } from './limits';
import { contractShape, type RunColumn } from './runColumn';

export * from './channels';
export * from './limits';

// ---------------------------------------------------------------- shared pieces

export const RUN_STATUS_VALUES = ['queued', 'running', 'paused', 'completed', 'stopped', 'interrupted', 'diverged', 'failed'] as const;
export const runStatusSchema = z.enum(RUN_STATUS_VALUES);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const NORM_PLACEMENT_VALUES = ['pre', 'post', 'none'] as const;
export const NORM_TYPE_VALUES = ['layer', 'rms'] as const;
export const PRESET_VALUES = ['nano', 'micro', 'mini', 'shakespeare-char'] as const;
export const ATTN_LOG_SCALING_VALUES = ['none', 'fixed'] as const;
export const TOKENIZER_VALUES = ['char', 'byte', 'bpe'] as const;
export const BACKEND_VALUES = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export const BACKEND_CHOICE_VALUES = ['auto', ...BACKEND_VALUES] as const;
export type BackendChoiceData = (typeof BACKEND_CHOICE_VALUES)[number];
export const EXPORT_FORMATS = ['csv', 'json'] as const;
export const PROBE_KIND_VALUES = ['attention', 'pe-table', 'bias', 'rope-decay', 'equivariance'] as const;

const runId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const runName = z.string().trim().min(1, 'must not be empty').max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`);
export const MAX_RUN_TAGS = 20;
export const MAX_RUN_NOTES = 10_000;
/** One word or short phrase: no commas (the tag box separates tags with them). */
const runTag = z.string().trim().min(1, 'must not be empty').max(40, 'must be at most 40 characters').regex(/^[^,\n]+$/, 'must not contain commas or line breaks');
const finite = z.number();
const nullableNumber = z.number().nullable();
const noArgs = z.strictObject({}).optional();

/**
 * Every RunConfig field; the full config as resolveConfig returns it. Settings the engine adds later pass as plain
 * values (validateConfig reports any it does not know), so the contract never rejects a config the engine accepts;
 * test/shared lists the engine's fields to keep the types here complete.
 */
export const runConfigSchema = z.looseObject({
  data: z.string().max(4096),
  /** Absent in runs stored before the byte and BPE tokenizers existed: they used characters. */
  tokenizer: z.enum(TOKENIZER_VALUES).optional(),
  nLayer: finite,
  nHead: finite,
  nEmbd: finite,
  blockSize: finite,
  batchSize: finite,
  steps: finite,
  lr: finite,
  minLr: finite,
  warmupSteps: nullableNumber,
  weightDecay: finite,
  beta1: finite,
  beta2: finite,
  gradClip: finite,
  dropoutEmbd: finite,
  dropoutAttn: finite,
  dropoutResid: finite,
  pos: z.string().max(64),
  posOptions: z.record(z.string().max(64), finite),
  /** A fine-tuned run's context extension, fixed at `scale` (RunConfig.posExtension); absent for every other run. */
  posExtension: z.object({ method: z.string().max(16), scale: finite }).optional(),
  norm: z.enum(NORM_PLACEMENT_VALUES),
  normType: z.enum(NORM_TYPE_VALUES),
  causal: z.boolean(),
  attnScale: z.boolean(),
  /** Absent in runs stored before log-n attention scaling existed: they trained without it. */
  attnLogScaling: z.enum(ATTN_LOG_SCALING_VALUES).optional(),
  tokenEmbedding: z.boolean(),
  /** Randomized positions' range L; absent = off (every run stored before it existed). */
  randomPositions: finite.optional(),
  seed: finite,
  /** Absent in runs stored before data-parallel training existed: they ran on one thread. 'auto' only in requests and defaults. */
  threads: z.union([finite, z.literal('auto')]).optional(),
  /** Absent in runs stored before the backend could be chosen per run: they took the lab's ladder. */
  backend: z.enum(BACKEND_CHOICE_VALUES).optional(),
  evalEvery: finite,
  evalBatches: finite,
  sampleEvery: finite,
  sampleLength: finite,
  checkpointEvery: finite,
  valFraction: finite,
});
export type RunConfigData = z.infer<typeof runConfigSchema>;

/** What a client may send to start a run: any subset of the config plus a preset, applied before the overrides. */
export const configOverridesSchema = runConfigSchema.partial().extend({ preset: z.enum(PRESET_VALUES).optional() });
export type ConfigOverrides = z.infer<typeof configOverridesSchema>;

export const configProblemSchema = z.object({ field: z.string(), message: z.string() });
export type ConfigProblemData = z.infer<typeof configProblemSchema>;

export const backendInfoSchema = z.object({
  name: z.enum(BACKEND_VALUES),
  gpu: z.boolean(),
  threads: z.number(),
  adapter: z.object({ vendor: z.string(), architecture: z.string(), description: z.string(), software: z.boolean() }).optional(),
  notes: z.array(z.string()),
  /** wasm: the native BLAS its matmuls ran on (absent: tfjs's XNNPACK kernels). */
  matmul: z.string().optional(),
  /** The `gpt-lab worker` that trained the run, for runs of a sweep spread over machines (absent for local runs). */
  worker: z.string().optional(),
});
export type BackendInfoData = z.infer<typeof backendInfoSchema>;

/** A `gpt-lab worker` as its heartbeat shows it: what it runs on and the runs it trains now. */
export const workerInfoSchema = z.strictObject({
  name: z.string().max(64),
  backend: backendInfoSchema,
  cells: z.array(z.number().int().positive()),
  /** When it last sent a heartbeat, ms since the epoch. */
  at: z.number(),
});
export type WorkerInfo = z.infer<typeof workerInfoSchema>;

export const schemeKnobSchema = z.object({
  key: z.string(),
  flag: z.string(),
  label: z.string(),
  help: z.string(),
  default: z.number(),
  min: z.number(),
  max: z.number(),
  integer: z.boolean(),
});

export const schemeInfoSchema = z.object({
  name: z.string(),
  label: z.string(),
  summary: z.string(),
  /** Where it plugs into the model: none, input, rotate, bias, score (see positional/types.ts). */
  hook: z.string(),
  knobs: z.array(schemeKnobSchema),
  /** Longest usable sequence as a multiple of the training block size; null when any length works. */
  maxLengthFactor: z.number().nullable(),
  /** The same in words, for the scheme picker. */
  maxLengthNote: z.string(),
});
export type SchemeInfo = z.infer<typeof schemeInfoSchema>;

export const builtinInfoSchema = z.object({
  name: z.string(),
  /** The value for RunConfig.data, e.g. `builtin:copy`. */
  source: z.string(),
  description: z.string(),
  preview: z.string(),
});
export type BuiltinInfo = z.infer<typeof builtinInfoSchema>;

/** The largest training text the lab takes, from a path or uploaded (src/lab/dataFile.ts checks it). */
export const MAX_DATA_BYTES = 50 * 1024 * 1024;
/** An upload carries its bytes as base64: 4 characters per 3 bytes. */
export const MAX_UPLOAD_BASE64_CHARS = Math.ceil(MAX_DATA_BYTES / 3) * 4;

/** An uploaded text as the New run form shows it; `source` (`text:<sha256>`) is the value for RunConfig.data. */
export const textSummarySchema = z.object({
  source: z.string(),
  name: z.string(),
  size: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
  vocabSize: z.number().int().nonnegative(),
});
export type TextSummary = z.infer<typeof textSummarySchema>;

/** A preset's model size, and the training settings a recipe preset (shakespeare-char) also fixes. */
export const presetInfoSchema = z.object({
  name: z.enum(PRESET_VALUES),
  nLayer: z.number(),
  nHead: z.number(),
  nEmbd: z.number(),
  blockSize: z.number().optional(),
  batchSize: z.number().optional(),
  steps: z.number().optional(),
  lr: z.number().optional(),
  minLr: z.number().optional(),
  dropoutEmbd: z.number().optional(),
  dropoutAttn: z.number().optional(),
  dropoutResid: z.number().optional(),
});
export type PresetInfo = z.infer<typeof presetInfoSchema>;

export const configDefaultsSchema = z.object({
  defaults: runConfigSchema,
  presets: z.array(presetInfoSchema),
  normPlacements: z.array(z.enum(NORM_PLACEMENT_VALUES)),
  normTypes: z.array(z.enum(NORM_TYPE_VALUES)),
  /** CPU cores of the machine the lab trains on: what `threads` can usefully be at most. */
  cores: z.number().int().positive(),
});
export type ConfigDefaults = z.infer<typeof configDefaultsSchema>;

const anyValue = z.unknown();
const storedNumber = z.number().nullable();
const storedText = z.string().nullable();

/**
 * The runs table, declared once: for each field of a run its SQL column, how the store keeps it and how the contract
 * shows it (RunColumn in ./runColumn.ts says what each key means). The store's RunRecord, NewRun and RunPatch, its
 * SELECT, INSERT, UPDATE and row mapping, and the contract's RunInfo all derive from this table: adding a column is an
 * entry here and a migration in src/store/schema.ts.
 */
export const RUN_COLUMNS = {
  id: { column: 'id', sql: 'INTEGER PRIMARY KEY', value: z.number(), contract: runId },
  name: { column: 'name', sql: 'TEXT NOT NULL', value: z.string(), contract: z.string(), create: 'required' },
  status: {
    column: 'status',
    sql: 'TEXT NOT NULL',
    value: runStatusSchema.describe('a run status'),
    contract: runStatusSchema,
    ifInvalid: 'failed',
    create: 'optional',
    update: true,
    checkWrites: true,
  },
  config: {
    column: 'config_json',
    sql: 'TEXT NOT NULL',
    // The store keeps any object; what a config must hold is the engine's validateConfig's business.
    value: anyValue.refine((v) => v !== null && typeof v === 'object' && !Array.isArray(v)).describe('an object'),
    contract: runConfigSchema,
    json: true,
    ifInvalid: {},
    create: 'required',
  },
  backend: { column: 'backend_json', sql: 'TEXT', value: anyValue, contract: backendInfoSchema.nullable(), json: true, ifInvalid: null, create: 'optional', update: true },
  dataSource: { column: 'data_source', sql: 'TEXT NOT NULL', value: z.string(), contract: z.string(), create: 'required' },
  dataHash: { column: 'data_hash', sql: 'TEXT', value: storedText, contract: z.string().nullable(), create: 'optional', update: true },
  /** The tokenizer's vocabulary: the store's, for loading the model back; not part of what a client sees. */
  vocab: { column: 'vocab_json', sql: 'TEXT', value: z.array(z.string()).nullable().describe('a list of tokens'), contract: null, json: true, ifInvalid: null, create: 'optional', update: true },
  params: { column: 'params', sql: 'INTEGER', value: storedNumber, contract: nullableNumber, create: 'optional', update: true },
  sweepKey: { column: 'sweep_key', sql: 'TEXT', value: storedText, contract: z.string().nullable(), create: 'optional' },
  /** How many cells the sweep (or seed group) that made the run had; null for a lone run and runs stored before v7. */
  sweepSize: { column: 'sweep_size', sql: 'INTEGER', value: storedNumber, contract: nullableNumber, create: 'optional' },
  /** Times are ms since the epoch. createRun sets createdAt. */
  createdAt: { column: 'created_at', sql: 'INTEGER NOT NULL', value: z.number(), contract: z.number() },
  startedAt: { column: 'started_at', sql: 'INTEGER', value: storedNumber, contract: nullableNumber, update: true },
  finishedAt: { column: 'finished_at', sql: 'INTEGER', value: storedNumber, contract: nullableNumber, update: true },
  lastStep: { column: 'last_step', sql: 'INTEGER NOT NULL DEFAULT 0', value: z.number(), contract: z.number(), update: true },
  finalTrainLoss: { column: 'final_train_loss', sql: 'REAL', value: storedNumber, contract: nullableNumber, update: true },
  finalValLoss: { column: 'final_val_loss', sql: 'REAL', value: storedNumber, contract: nullableNumber, update: true },
  tokensPerSecond: { column: 'tokens_per_second', sql: 'REAL', value: storedNumber, contract: nullableNumber, update: true },
  error: { column: 'error', sql: 'TEXT', value: storedText, contract: z.string().nullable(), update: true },
  /** The process that trains (or last trained) the run, and its tag (src/store/owner.ts), which tells a reused pid apart. createRun sets them from its `owner`. */
  ownerPid: { column: 'owner_pid', sql: 'INTEGER', value: storedNumber, contract: null, update: true },
  ownerTag: { column: 'owner_tag', sql: 'TEXT', value: storedText, contract: null, update: true },
  /** Short labels the user gives a run ("baseline", "lr-sweep"), and free-text notes; set by annotateRun. */
  tags: { column: 'tags_json', sql: 'TEXT', value: z.array(z.string()).describe('a list of tags'), contract: z.array(z.string()), json: true, whenNull: [], ifInvalid: [] },
  notes: { column: 'notes', sql: 'TEXT', value: z.string(), contract: z.string(), whenNull: '' },
  /** The run this one was fine-tuned from (finetuneRun); null otherwise, or once that run is deleted. */
  parentId: { column: 'parent_run_id', sql: 'INTEGER', value: storedNumber, contract: runId.nullable(), create: 'optional' },
} as const satisfies Record<string, RunColumn>;

export const runRecordSchema = z.object({
  ...contractShape(RUN_COLUMNS),
  /** What is wrong with a stored row that cannot be read back (its config is then {}); absent or null otherwise. */
  damaged: z.string().nullable().optional(),
});
export type RunInfo = z.infer<typeof runRecordSchema>;

export const metricRowSchema = z.object({
  step: z.number(),
  tokens: z.number(),
  wallMs: z.number(),
  trainLoss: nullableNumber,
  valLoss: nullableNumber,
  lr: nullableNumber,
  gradNorm: nullableNumber,
});
export type MetricRowData = z.infer<typeof metricRowSchema>;

/** A metric row as it streams live: also the current throughput, which the store does not keep. */
export const liveMetricRowSchema = metricRowSchema.extend({ tokensPerSecond: z.number() });
export type LiveMetricRow = z.infer<typeof liveMetricRowSchema>;

export const sampleRowSchema = z.object({ step: z.number(), prompt: z.string().nullable(), text: z.string(), createdAt: z.number() });
export type SampleRowData = z.infer<typeof sampleRowSchema>;

export const queueStateSchema = z.object({ running: runId.nullable(), queued: z.array(runId) });
export type QueueState = z.infer<typeof queueStateSchema>;

const runIdRequest = z.strictObject({ runId });
const runStatusResponse = z.object({ runId, status: runStatusSchema });

export const lengthResultSchema = z.object({
  length: z.number(),
  /** False when the positional scheme has no positions this far (e.g. learned past its block). */
  applicable: z.boolean(),
  reason: z.string().optional(),
  loss: nullableNumber,
  ppl: nullableNumber,
  accuracy: nullableNumber,
  perPositionLoss: z.array(z.number()),
  windows: z.number(),
  ms: z.number(),
  peakBytes: z.number(),
});
/** Context-extension methods for rope runs at evaluation time (mirrors the rope scheme's ROPE_SCALINGS). */
export const ROPE_SCALING_VALUES = ['none', 'pi', 'ntk', 'yarn'] as const;
export const evalLengthResultSchema = z.object({
  runId,
  block: z.number(),
  scheme: z.string(),
  /** Present when the rope run was evaluated with PI, NTK or YaRN scaling. */
  ropeScaling: z.enum(ROPE_SCALING_VALUES).optional(),
  results: z.array(lengthResultSchema),
});
export type EvalLengthResultData = z.infer<typeof evalLengthResultSchema>;

export const taskSizeResultSchema = z.object({
  size: z.number(),
  /** Characters in prompt + answer of the longest example at this size. */
  sequenceLength: z.number(),
  applicable: z.boolean(),
  accuracy: nullableNumber,
  examples: z.number(),
});
export const taskLengthResultSchema = z.object({ runId, task: z.string(), trainingMaxSize: z.number(), results: z.array(taskSizeResultSchema) });
export type TaskLengthResultData = z.infer<typeof taskLengthResultSchema>;

const matrix = z.array(z.array(z.number()));
export const equivarianceRowSchema = z.object({ scheme: z.string(), causal: z.boolean(), difference: z.number(), tied: z.boolean() });
export type EquivarianceRowData = z.infer<typeof equivarianceRowSchema>;
/** What each probe kind returns (src/lab/analysis.ts probeForRun). */
export const probeResultSchema = z.discriminatedUnion('kind', [
  /** [layer][head] → T×T attention weights, row = query. */
  z.object({ kind: z.literal('attention'), runId, text: z.string(), layers: z.array(z.array(matrix)) }),
  /** The (T, C) table an additive scheme adds; null for schemes that add nothing. */
  z.object({ kind: z.literal('pe-table'), runId, scheme: z.string(), table: matrix.nullable() }),
  /** Per-head (T, T) logit bias; null for schemes without one. */
  z.object({ kind: z.literal('bias'), runId, scheme: z.string(), heads: z.array(matrix).nullable() }),
  z.object({ kind: z.literal('rope-decay'), runId, distance: z.array(z.number()), bound: z.array(z.number()), onesScore: z.array(z.number()) }),
  z.object({ kind: z.literal('equivariance'), runId: runId.nullable(), text: z.string(), rows: z.array(equivarianceRowSchema) }),
]);
export type ProbeResultData = z.infer<typeof probeResultSchema>;

/**
 * The numbers a scheme preview returns at most: length·nEmbd (a table) plus nHead·length² (ALiBi's bias) or length²
 * (bucket ids). ~1M numbers is ~10 MB of JSON; alibi at 512 × 64 heads would be 16.8M (a 295 MB answer).
 */
export const MAX_PREVIEW_NUMBERS = 2 ** 20;

/** How many numbers a preview of these dimensions returns at most (the largest of what any scheme draws). */
export function previewNumbers({ length, nEmbd, nHead }: { length: number; nEmbd: number; nHead: number }): number {
  return length * nEmbd + nHead * length * length;
}

/** A scheme's position tables for given dimensions, computed from its definition (no weights, no run). */
export const schemePreviewRequestSchema = z
  .strictObject({
    pos: z.string().max(64),
    length: z.number().int().min(1).max(512),
    nEmbd: z.number().int().min(2).max(512),
    nHead: z.number().int().min(1).max(64),
    posOptions: z.record(z.string().max(64), finite).optional(),
  })
  .refine((r) => previewNumbers(r) <= MAX_PREVIEW_NUMBERS, {
    message: `length·nEmbd + nHead·length² must be at most ${MAX_PREVIEW_NUMBERS.toLocaleString('en-US')} numbers; use a shorter length or fewer heads`,
  });
export const schemePreviewSchema = z.object({
  scheme: z.string(),
  hook: z.string(),
  /** One line on how the scheme tells positions apart. */
  explanation: z.string(),
  /** (length, nEmbd) table added to the input; null when the scheme adds none or it is learned. */
  table: matrix.nullable(),
  /** Per-head (length, length) logit bias (ALiBi); null otherwise. */
  bias: z.array(matrix).nullable(),
  /** (length, length) T5 bucket ids (the learned scalar per bucket and head is added); null otherwise. */
  buckets: matrix.nullable(),
  /** RoPE's long-term decay over distance; null for other schemes. */
  decay: z.object({ distance: z.array(z.number()), bound: z.array(z.number()), onesScore: z.array(z.number()) }).nullable(),
});
export type SchemePreview = z.infer<typeof schemePreviewSchema>;

export const recipeSeriesSchema = z.object({ label: z.string(), x: z.array(z.number()), y: z.array(z.number().nullable()) });
export const recipeResultSchema = z.object({
  recipe: z.string(),
  version: z.number(),
  quick: z.boolean(),
  claim: z.string(),
  verdict: z.enum(['held', 'did not hold', 'inconclusive']),
  /** One sentence with the figures behind the verdict. */
  summary: z.string(),
  figures: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
  runs: z.array(z.object({ label: z.string(), runId, status: z.string(), finalValLoss: nullableNumber })),
  chart: z.object({ title: z.string(), xLabel: z.string(), yLabel: z.string(), series: z.array(recipeSeriesSchema) }),
});
export type RecipeResultData = z.infer<typeof recipeResultSchema>;
export const recipeInfoSchema = z.object({
  name: z.string(),
  version: z.number(),
  title: z.string(),
  claim: z.string(),
  /** The newest stored result of this version (quick or full), or null when it never ran here. */
  lastResult: recipeResultSchema.nullable(),
});
export type RecipeInfo = z.infer<typeof recipeInfoSchema>;

/** Long operations run in the analysis host one at a time; each reports itself through `job` events. */
export const JOB_KIND_VALUES = ['evalLength', 'taskLength', 'probe', 'runRecipe', 'sampleText'] as const;
export const JOB_STATE_VALUES = ['queued', 'running', 'progress', 'done', 'failed'] as const;
export const jobEventSchema = z.object({
  id: z.string(),
  kind: z.enum(JOB_KIND_VALUES),
  /** What it is, for people: "extrapolation of run 3", "recipe extrapolation (quick)". */
  label: z.string(),
  state: z.enum(JOB_STATE_VALUES),
  message: z.string().optional(),
  runId: runId.optional(),
});
export type JobEvent = z.infer<typeof jobEventSchema>;

export const sweepGridSchema = z.strictObject({
  pos: z.array(z.string().max(64)).min(1).max(32),
  norm: z.array(z.enum(NORM_PLACEMENT_VALUES)).min(1).max(3),
  dropout: z.array(z.number().min(0).max(0.95)).min(1).max(16),
});
export type SweepGrid = z.infer<typeof sweepGridSchema>;

export const sampleRequestSchema = z.strictObject({
  runId,
  prompt: z.string().min(1, 'must not be empty').max(10_000),
  tokens: z.number().int().min(1).max(10_000),
  /** 0 is greedy. */
  temperature: z.number().min(0).max(100),
  /** 0 keeps every token. */
  topK: z.number().int().min(0),
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  /** Chosen by the client and echoed in every sampleToken event, so it can tell its stream from others. */
  streamId: z.string().max(64).optional(),
});
export const sampledTokenSchema = z.object({ id: z.number(), text: z.string(), probability: z.number() });
export const sampleResultSchema = z.object({
  runId,
  step: z.number(),
  prompt: z.string(),
  text: z.string(),
  tokens: z.array(sampledTokenSchema),
  window: z.number(),
  slid: z.boolean(),
  windowNote: z.string(),
});
export type SampleResultData = z.infer<typeof sampleResultSchema>;
export const MODEL_LAYOUT_VALUES = ['gpt2', 'gpt-lab'] as const;
const modelDir = z.string().trim().min(1, 'must name a directory').max(4096);

// ---------------------------------------------------------------- calls

function call<Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res): { request: Req; response: Res } {
  return { request, response };
}

export const CALLS = {
  /** The backend the training host runs on (starting the host if needed) and whether it is a GPU. */
  backendInfo: call(noArgs, backendInfoSchema),
  /** Defaults, presets and enum values for building a config form. */
  configDefaults: call(noArgs, configDefaultsSchema),
  /** The positional schemes from the registry: the UI builds its picker from these. */
  listSchemes: call(noArgs, z.array(schemeInfoSchema)),
  listBuiltins: call(noArgs, z.array(builtinInfoSchema)),
  /** Keeps a training text in the lab's database (same checks as a data file) and returns its `text:` source. */
  addText: call(z.strictObject({ name: z.string().trim().min(1).max(255), base64: z.base64().max(MAX_UPLOAD_BASE64_CHARS) }), textSummarySchema),
  /** Same rules as the CLI: every problem with the config and its data, and the resolved config when valid. */
  validateConfig: call(z.strictObject({ config: configOverridesSchema }), z.object({ problems: z.array(configProblemSchema), config: runConfigSchema.nullable() })),
  /** Validates, then queues; the run trains when the host is free. */
  /** `seeds` k > 1 trains k runs on seeds seed … seed + k − 1 as one group (what `train --seeds` does); runIds lists them. */
  startRun: call(
    z.strictObject({ config: configOverridesSchema, name: runName.optional(), seeds: z.number().int().min(1).max(MAX_SEEDS).optional() }),
    runStatusResponse.extend({ runIds: z.array(runId).optional() }),
  ),
  /**
   * Context-extension fine-tuning (src/lab/finetune.ts): a finished run's weights continue at a longer block as a new
   * run linked to it, queued like any other; `ropeScaling` (rope runs) trains with that extension fixed at the new length.
   */
  finetuneRun: call(
    z.strictObject({
      runId,
      blockSize: z.number().int().positive().max(4096),
      steps: z.number().int().positive().max(10_000_000),
      lr: z.number().positive().max(10).optional(),
      ropeScaling: z.enum(ROPE_SCALING_VALUES).optional(),
      name: runName.optional(),
    }),
    runStatusResponse,
  ),
  /** Stops a running or paused run (checkpoint kept) or takes a queued run off the queue. */
  stopRun: call(runIdRequest, runStatusResponse),
  pauseRun: call(runIdRequest, runStatusResponse),
  /** Resumes a paused run, or queues an interrupted/stopped/failed run to continue from its last checkpoint. */
  resumeRun: call(runIdRequest, runStatusResponse),
  queueState: call(noArgs, queueStateSchema),
  /** Newest first. */
  listRuns: call(noArgs, z.array(runRecordSchema)),
  getRun: call(runIdRequest, runRecordSchema),
  renameRun: call(z.strictObject({ runId, name: runName }), runRecordSchema),
  /** Replaces a run's tags and notes (the words the Runs filter also matches). */
  annotateRun: call(z.strictObject({ runId, tags: z.array(runTag).max(MAX_RUN_TAGS), notes: z.string().max(MAX_RUN_NOTES) }), runRecordSchema),
  /** Deletes a finished or queued run with all its data; a running run must be stopped first. */
  deleteRun: call(runIdRequest, z.object({ runId })),
  /** Rows with step > sinceStep (all when omitted). */
  metrics: call(z.strictObject({ runId, sinceStep: z.number().int().min(-1).optional() }), z.array(metricRowSchema)),
  samples: call(runIdRequest, z.array(sampleRowSchema)),
  /** Loss per length and per position on held-out text (src/lab/analysis.ts). */
  evalLength: call(z.strictObject({ runId, lengths: z.array(z.number().int().positive().max(65_536)).min(1).max(16).optional(), ropeScaling: z.enum(ROPE_SCALING_VALUES).optional() }), evalLengthResultSchema),
  /** Attention maps, equivariance, PE tables (src/lab/analysis.ts); runId null probes fresh weights (equivariance). */
  probe: call(z.strictObject({ runId: runId.nullable(), kind: z.enum(PROBE_KIND_VALUES), text: z.string().max(10_000).optional() }), probeResultSchema),
  /**
   * Expands grid × common config into queued runs sharing a sweep key; all validated before any is queued. With
   * `queue` (redis://…) the runs train on `gpt-lab worker` processes instead of this machine (docs/SCALE.md).
   */
  startSweep: call(
    z.strictObject({ grid: sweepGridSchema, config: configOverridesSchema, name: runName.optional(), queue: z.string().max(2048).optional() }),
    z.object({ sweepKey: z.string(), runIds: z.array(runId) }),
  ),
  /** The workers whose heartbeat reaches the queue at `queue` now. */
  listWorkers: call(z.strictObject({ queue: z.string().max(2048) }), z.array(workerInfoSchema)),
  /** A run's config and metrics as a file the client saves. */
  exportRun: call(
    z.strictObject({ runId, format: z.enum(EXPORT_FORMATS) }),
    z.object({ filename: z.string(), mimeType: z.string(), content: z.string() }),
  ),
  /** Exact-match accuracy vs example size for a run trained on a synthetic task (builtin:copy, reverse, …). */
  taskLength: call(z.strictObject({ runId, sizes: z.array(z.number().int().positive().max(1000)).min(1).max(16).optional() }), taskLengthResultSchema),
  /** The newest stored length and task evaluations of each run asked for (runs never evaluated are left out). */
  latestEvals: call(
    z.strictObject({ runIds: z.array(runId).max(64) }),
    z.object({ length: z.array(evalLengthResultSchema), taskLength: z.array(taskLengthResultSchema) }),
  ),
  /** A scheme's tables (PE, ALiBi bias, T5 buckets, RoPE decay) from its definition, for diagrams and the Probes view. */
  schemePreview: call(schemePreviewRequestSchema, schemePreviewSchema),
  /** The recipes (src/lab/recipes.ts): each one's claim and its last stored result. */
  listRecipes: call(noArgs, z.array(recipeInfoSchema)),
  /** Runs a recipe end to end (training what it has not trained before) in the analysis host; `job` events report progress. */
  runRecipe: call(z.strictObject({ name: z.string().max(64), quick: z.boolean() }), recipeResultSchema),
  /** Text from a run's latest weights in the analysis host; each token is pushed as a sampleToken event as it comes. */
  sampleText: call(sampleRequestSchema, sampleResultSchema),
  /** Writes model.safetensors + config.json + tokenizer.json into a new or empty directory (src/lab/modelTransfer.ts). */
  exportModel: call(
    z.strictObject({ runId, dir: modelDir }),
    z.object({ runId, dir: z.string(), layout: z.enum(MODEL_LAYOUT_VALUES), notGpt2Because: z.array(z.string()), files: z.array(z.string()), step: z.number() }),
  ),
  /** Stores an exported model as a stopped run at step 0: it can be sampled, evaluated and resumed (fine-tuned). */
  importModel: call(z.strictObject({ dir: modelDir }), z.object({ runId, layout: z.enum(MODEL_LAYOUT_VALUES) })),
} satisfies Record<CallName, { request: z.ZodType; response: z.ZodType }>;

export type CallRequest<K extends CallName> = z.input<(typeof CALLS)[K]['request']>;
export type CallResponse<K extends CallName> = z.output<(typeof CALLS)[K]['response']>;

/** The lab as every client sees it: one named async function per call. */
export type LabApi = {
  [K in CallName]: undefined extends CallRequest<K>
    ? (request?: CallRequest<K>) => Promise<CallResponse<K>>
    : (request: CallRequest<K>) => Promise<CallResponse<K>>;
};

// ---------------------------------------------------------------- events

export const UI_COMMANDS = ['new-run', 'open-data', 'export', 'toggle-theme'] as const;

export const EVENTS = {
  metrics: z.object({ runId, rows: z.array(liveMetricRowSchema) }),
  sample: z.object({ runId, step: z.number(), prompt: z.string(), text: z.string() }),
  status: z.object({ runId, status: runStatusSchema, lastStep: z.number().optional(), error: z.string().nullable().optional() }),
  runsChanged: z.object({ runId, change: z.enum(['created', 'renamed', 'annotated', 'deleted']) }),
  queue: queueStateSchema,
  uiCommand: z.object({ command: z.enum(UI_COMMANDS), path: z.string().optional() }),
  job: jobEventSchema,
  sampleToken: z.object({ runId, streamId: z.string().optional(), index: z.number().int(), token: sampledTokenSchema }),
} satisfies Record<EventName, z.ZodType>;

export type EventPayload<K extends EventName> = z.infer<(typeof EVENTS)[K]>;
/** One pushed event, as it travels: the channel name and its payload. */
export type LabEvent = { [K in EventName]: { channel: (typeof EventChannel)[K]; payload: EventPayload<K> } }[EventName];
export type LabEventListener = (event: LabEvent) => void;

const eventSchemaByChannel = new Map<string, z.ZodType>(
  (Object.keys(EVENTS) as EventName[]).map((name) => [EventChannel[name], EVENTS[name]]),
);

/** Parses an incoming `{ channel, payload }`; undefined for anything that is not a known, well-formed event. */
export function parseLabEvent(value: unknown): LabEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { channel, payload } = value as { channel?: unknown; payload?: unknown };
  const schema = typeof channel === 'string' ? eventSchemaByChannel.get(channel) : undefined;
  if (!schema) return undefined;
  const parsed = schema.safeParse(payload);
  return parsed.success ? ({ channel, payload: parsed.data } as LabEvent) : undefined;
}

// ---------------------------------------------------------------- results and errors

export const ERROR_CODES = ['invalid-request', 'invalid-config', 'invalid-data', 'not-found', 'conflict', 'unauthorized', 'forbidden', 'host-failed', 'internal'] as const;
export type LabErrorCode = (typeof ERROR_CODES)[number];

export const labErrorInfoSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  problems: z.array(configProblemSchema).optional(),
});
export type LabErrorInfo = z.infer<typeof labErrorInfoSchema>;

/** What a call returns over any transport: the value or an error the client can show as it is. */
export type CallResult<T = unknown> = { ok: true; value: T } | { ok: false; error: LabErrorInfo };

/** An error with a code clients can act on; its message is for people. */
export class LabError extends Error {
  constructor(
    readonly code: LabErrorCode,
    message: string,
    readonly problems?: ConfigProblemData[],
  ) {
    super(message);
    this.name = 'LabError';
  }

  toInfo(): LabErrorInfo {
    return this.problems ? { code: this.code, message: this.message, problems: this.problems } : { code: this.code, message: this.message };
  }
}

/** zod's issues as one line per problem, `path: message`, for an invalid-request error. */
export function describeIssues(error: z.ZodError): ConfigProblemData[] {
  return error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || '(request)', message: issue.message }));
}

/** The HTTP path of a call; the WebSocket path for events. */
export function apiPath(name: CallName): string {
  return `/api/${name}`;
}
export const EVENTS_PATH = '/events';

/**
 * What the preload exposes as `window.gptLab`: each call returns its CallResult rather than throwing (errors lose
 * their fields crossing the context bridge), plus `onEvent`. The renderer's client turns it back into a LabApi.
 */
export type LabBridge = { [K in CallName]: (request?: CallRequest<K>) => Promise<CallResult<CallResponse<K>>> } & {
  onEvent(listener: LabEventListener): () => void;
};

/**
 * What travels through the queue between the lab (the coordinator) and `gpt-lab worker` processes. Both sides parse
 * every payload with these schemas: a job is a run configuration plus its text, never code; a worker's reports are
 * plain numbers and strings. Checkpoints travel as base64 inside JSON because BullMQ stores job data as JSON.
 */
import { z } from 'zod';
import { version } from '../../package.json';
import { backendInfoSchema, describeIssues as fieldProblems, metricRowSchema as contractMetricRowSchema, runConfigSchema, workerInfoSchema } from '../shared/api';

/** Jobs of one lab and one worker pool meet in this BullMQ queue. */
export const CELL_QUEUE = 'gpt-lab-cells';
/** A worker's heartbeat lives in `${HEARTBEAT_PREFIX}<name>` and expires when the worker stops sending it. */
export const HEARTBEAT_PREFIX = 'gpt-lab:worker:';
export const HEARTBEAT_EVERY_MS = 2_000;
export const HEARTBEAT_TTL_S = 10;
/** A text file travels inside the job; beyond this the sweep is refused with a clear error. */
export const MAX_JOB_TEXT_CHARS = 8 * 2 ** 20;

/** Workers only take jobs written by the same GPT Lab version: configs and checkpoints change between versions. */
export const GPT_LAB_VERSION: string = version;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const step = z.number().int().nonnegative();

export const cellCheckpointSchema = z.strictObject({ step, data: base64 });

export const cellJobSchema = z.strictObject({
  version: z.string().max(64),
  runId: z.number().int().positive(),
  sweepKey: z.string().max(256),
  config: runConfigSchema,
  data: z.strictObject({
    source: z.string().max(4096),
    hash: z.string().max(128),
    /** Absent for builtin:* sources, which every worker generates itself from the same seed. */
    text: z.string().max(MAX_JOB_TEXT_CHARS).optional(),
    /** The char vocabulary; null for byte and BPE runs, whose tokenizer fixes it. */
    vocab: z.array(z.string().max(8)).max(1_000_000).nullable(),
  }),
  /** The newest checkpoint the lab has stored for this run: a re-taken cell continues from here. */
  resume: cellCheckpointSchema.optional(),
});
export type CellJob = z.infer<typeof cellJobSchema>;

const nullableNumber = z.number().nullable();

/** The contract's metric row, strict and with whole steps: a worker's rows are written to the store as they come. */
export const metricRowSchema = z.strictObject({ ...contractMetricRowSchema.shape, step });
export const sampleSchema = z.strictObject({ step, prompt: z.string(), text: z.string() });

/** Sent with job.updateProgress while a cell trains, in this order per cell. */
export const cellReportSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('started'), worker: z.string(), backend: backendInfoSchema, resumedFrom: step.nullable() }),
  z.strictObject({ type: z.literal('metrics'), rows: z.array(metricRowSchema) }),
  z.strictObject({ type: z.literal('sample'), sample: sampleSchema }),
  z.strictObject({ type: z.literal('checkpoint'), checkpoint: cellCheckpointSchema }),
]);
export type CellReport = z.infer<typeof cellReportSchema>;

/**
 * A finished cell, everything the worker trained since it took the cell: the lab writes it idempotently, so a result
 * read again after the lab restarted, or beside live reports it already stored, changes nothing.
 */
export const cellResultSchema = z.strictObject({
  worker: z.string(),
  backend: backendInfoSchema,
  params: z.number().int().positive(),
  status: z.enum(['completed', 'diverged']),
  message: z.string().nullable(),
  finalTrainLoss: nullableNumber,
  finalValLoss: nullableNumber,
  tokensPerSecond: nullableNumber,
  metrics: z.array(metricRowSchema),
  samples: z.array(sampleSchema),
  /** Null only for a cell that diverged before its first checkpoint. */
  checkpoint: cellCheckpointSchema.nullable(),
});
export type CellResult = z.infer<typeof cellResultSchema>;

export const heartbeatSchema = workerInfoSchema;
export type Heartbeat = z.infer<typeof heartbeatSchema>;

/** Zod's issues as one line naming each bad field. */
export function describeIssues(error: z.ZodError): string {
  return fieldProblems(error).map((p) => `${p.field === '(request)' ? 'payload' : p.field}: ${p.message}`).join('; ');
}

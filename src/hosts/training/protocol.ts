/**
 * Messages between LabService (through client.ts) and its training host process (entry.ts), over child_process
 * IPC. Both directions are validated with these schemas: the host trusts nothing it is sent, and the service nothing
 * the host reports.
 */
import { z } from 'zod';
import { backendInfoSchema, configOverridesSchema, liveMetricRowSchema, runStatusSchema } from '../../shared/api';

const runId = z.number().int().positive();

export const hostCommandSchema = z.discriminatedUnion('type', [
  /** Train a queued run from its (already validated) config. */
  z.strictObject({
    type: z.literal('train'),
    runId,
    input: z.strictObject({ config: configOverridesSchema, name: z.string().optional(), sweepKey: z.string().optional() }),
  }),
  /** Continue a run from its latest checkpoint, or from the start when it never reached one. */
  z.strictObject({ type: z.literal('continue'), runId }),
  z.strictObject({ type: z.literal('stop'), runId }),
  z.strictObject({ type: z.literal('pause'), runId }),
  z.strictObject({ type: z.literal('resume'), runId }),
  /** Stop the current run cleanly (checkpoint kept), then exit. */
  z.strictObject({ type: z.literal('shutdown') }),
]);
export type HostCommand = z.infer<typeof hostCommandSchema>;

export const hostEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), backend: backendInfoSchema }),
  /** The backend could not load or the store could not open: the host exits after this. */
  z.object({ type: z.literal('fatal'), message: z.string() }),
  z.object({ type: z.literal('started'), runId }),
  z.object({ type: z.literal('metrics'), runId, rows: z.array(liveMetricRowSchema) }),
  z.object({ type: z.literal('sample'), runId, step: z.number(), prompt: z.string(), text: z.string() }),
  z.object({ type: z.literal('status'), runId, status: runStatusSchema }),
  z.object({ type: z.literal('done'), runId, status: runStatusSchema, lastStep: z.number(), error: z.string().nullable() }),
  /** A message the host refused (malformed, or not applicable to what it is doing), with its run when it named one. */
  z.object({ type: z.literal('rejected'), reason: z.string(), runId: runId.optional() }),
]);
export type HostEvent = z.infer<typeof hostEventSchema>;

/** Live metric batches go out at most this often, except that evaluation steps and the last step go at once. */
export const METRICS_EVENT_INTERVAL_MS = 50;

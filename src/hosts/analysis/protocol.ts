/**
 * Messages between LabService (through client.ts) and its analysis host process (entry.ts): evaluations, probes and
 * recipes, which load a model and run tfjs for seconds to minutes. They run there, one at a time, so the service (and
 * the Electron main process or web server it lives in) never blocks, and training in the training host goes on.
 */
import { z } from 'zod';
import { PROBE_KIND_VALUES, ROPE_SCALING_VALUES, sampledTokenSchema } from '../../shared/api';

const runId = z.number().int().positive();

export const analysisJobSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('evalLength'), runId, lengths: z.array(z.number().int().positive()).optional(), ropeScaling: z.enum(ROPE_SCALING_VALUES).optional() }),
  z.strictObject({ kind: z.literal('taskLength'), runId, sizes: z.array(z.number().int().positive()).optional() }),
  z.strictObject({ kind: z.literal('probe'), runId: runId.nullable(), probeKind: z.enum(PROBE_KIND_VALUES), text: z.string().optional() }),
  z.strictObject({ kind: z.literal('runRecipe'), name: z.string(), quick: z.boolean() }),
  z.strictObject({
    kind: z.literal('sampleText'),
    runId,
    prompt: z.string(),
    tokens: z.number().int(),
    temperature: z.number(),
    topK: z.number().int(),
    seed: z.number().int(),
    streamId: z.string().optional(),
  }),
]);
export type AnalysisJob = z.infer<typeof analysisJobSchema>;

export const analysisCommandSchema = z.strictObject({ type: z.literal('job'), id: z.string(), job: analysisJobSchema });
export type AnalysisCommand = z.infer<typeof analysisCommandSchema>;

export const analysisEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** The store could not open or no backend loaded: the host exits after this. */
  z.object({ type: z.literal('fatal'), message: z.string() }),
  z.object({ type: z.literal('started'), id: z.string() }),
  /** A line of progress ("extrapolation: training 150 steps…"); a recipe also creates runs as it goes. */
  z.object({ type: z.literal('progress'), id: z.string(), message: z.string() }),
  /** One generated token of a sampleText job. */
  z.object({ type: z.literal('token'), id: z.string(), index: z.number().int(), token: sampledTokenSchema }),
  z.object({ type: z.literal('result'), id: z.string(), value: z.unknown() }),
  z.object({ type: z.literal('error'), id: z.string(), message: z.string() }),
]);
export type AnalysisEvent = z.infer<typeof analysisEventSchema>;

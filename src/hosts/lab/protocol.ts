/**
 * Messages between Electron's main process (client.ts) and the lab process (entry.ts), which runs LabService under
 * plain Node. Calls go in as the contract's call names and payloads (dispatch validates the payload against the
 * contract); results and events come out in the contract's shapes. Both directions are parsed with these schemas.
 */
import { z } from 'zod';
import { labErrorInfoSchema, parseLabEvent, type LabEvent } from '../../shared/api';

export const labCallSchema = z.strictObject({ type: z.literal('call'), id: z.number().int().positive(), name: z.string(), payload: z.unknown() });
export type LabCall = z.infer<typeof labCallSchema>;

const callResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: labErrorInfoSchema }),
]);

const labEventSchema = z.custom<LabEvent>((value) => parseLabEvent(value) !== undefined, 'not a known, well-formed lab event');

export const labProcessEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** The lab could not start (its database, its native module): the process exits after this. */
  z.object({ type: z.literal('fatal'), message: z.string() }),
  z.object({ type: z.literal('result'), id: z.number().int().positive(), result: callResultSchema }),
  z.object({ type: z.literal('event'), event: labEventSchema }),
]);
export type LabProcessEvent = z.infer<typeof labProcessEventSchema>;

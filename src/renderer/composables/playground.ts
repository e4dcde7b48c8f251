/**
 * The Playground's state: a sampleText call whose tokens arrive as sampleToken events of this playground's own
 * stream, shown as they come; the call's result then replaces them (it is complete even if an event was missed).
 */
import { ref, shallowRef } from 'vue';
import type { CallRequest, LabEvent, SampleResultData } from '../../shared/api';
import type { LabClient } from '../client';

export interface ShownToken {
  text: string;
  probability: number;
}

export type SampleKnobs = Omit<CallRequest<'sampleText'>, 'streamId'>;

/** Background alpha for a token: the less likely the model found it, the stronger the shade. */
export function surpriseShade(probability: number): number {
  return Math.round((1 - Math.min(1, Math.max(0, probability))) * 60) / 100;
}

/** What the window note says before anything is generated: a position table slides, other schemes read further. */
export function windowHint(pos: string, blockSize: number, maxLengthFactor: number | null): string {
  if (maxLengthFactor !== null)
    return `${pos} positions have ${blockSize * maxLengthFactor} rows: past ${blockSize * maxLengthFactor} tokens the model sees a sliding window of the last ${blockSize * maxLengthFactor}.`;
  return `${pos} positions work at any length; the model reads up to 8 × block = ${8 * blockSize} tokens back.`;
}

let streams = 0;

export function usePlayground(lab: Pick<LabClient, 'sampleText' | 'onEvent'>) {
  const tokens = shallowRef<ShownToken[]>([]);
  const result = shallowRef<SampleResultData | null>(null);
  const running = ref(false);
  const error = ref<string | null>(null);

  async function generate(knobs: SampleKnobs): Promise<void> {
    const streamId = `playground-${++streams}`;
    tokens.value = [];
    result.value = null;
    error.value = null;
    running.value = true;
    const off = lab.onEvent((event: LabEvent) => {
      if (event.channel !== 'sample:token' || event.payload.streamId !== streamId) return;
      const next = [...tokens.value];
      next[event.payload.index] = { text: event.payload.token.text, probability: event.payload.token.probability };
      tokens.value = next;
    });
    try {
      const done = await lab.sampleText({ ...knobs, streamId });
      tokens.value = done.tokens.map((t) => ({ text: t.text, probability: t.probability }));
      result.value = done;
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      off();
      running.value = false;
    }
  }

  return { tokens, result, running, error, generate };
}

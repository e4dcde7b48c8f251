/** The Playground's composable: tokens of its own stream shown as they arrive, then the call's result; errors shown. */
import { describe, expect, it } from 'vitest';
import { surpriseShade, usePlayground, windowHint } from '../../src/renderer/composables/playground';
import type { CallRequest, LabEvent, LabEventListener, SampleResultData } from '../../src/shared/api';

function fakeLab(tokens: { text: string; probability: number }[], fail?: string) {
  const listeners = new Set<LabEventListener>();
  const seenDuringCall: string[][] = [];
  let shown: () => string[] = () => [];
  const lab = {
    onEvent: (l: LabEventListener) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    sampleText: async (req: CallRequest<'sampleText'>): Promise<SampleResultData> => {
      const emit = (e: LabEvent) => listeners.forEach((l) => l(e));
      tokens.forEach((token, index) => {
        emit({ channel: 'sample:token', payload: { runId: req.runId, streamId: req.streamId, index, token: { id: index, ...token } } });
        // Another client's stream on the same run must not show up here.
        emit({ channel: 'sample:token', payload: { runId: req.runId, streamId: 'someone-else', index, token: { id: 9, text: 'X', probability: 0.5 } } });
        seenDuringCall.push(shown());
      });
      if (fail) throw new Error(fail);
      return { runId: req.runId, step: 40, prompt: req.prompt, text: tokens.map((t) => t.text).join(''), tokens: tokens.map((t, id) => ({ id, ...t })), window: 8, slid: true, windowNote: 'a note' };
    },
    listeners,
  };
  return { lab, seenDuringCall, watch: (f: () => string[]) => (shown = f) };
}

const knobs = { runId: 3, prompt: 'ROMEO:', tokens: 3, temperature: 1, topK: 0, seed: 1 };

describe('usePlayground', () => {
  it('shows tokens one by one as their events arrive, only its own stream, then the full result', async () => {
    const { lab, seenDuringCall, watch } = fakeLab([{ text: ' O', probability: 0.9 }, { text: 'h', probability: 0.2 }, { text: '!', probability: 0.05 }]);
    const play = usePlayground(lab);
    watch(() => play.tokens.value.map((t) => t.text));
    await play.generate(knobs);
    expect(seenDuringCall).toEqual([[' O'], [' O', 'h'], [' O', 'h', '!']]);
    expect(play.tokens.value.map((t) => t.probability)).toEqual([0.9, 0.2, 0.05]);
    expect(play.result.value?.slid).toBe(true);
    expect(play.running.value).toBe(false);
    expect(lab.listeners.size).toBe(0);
  });

  it('shows the error of a failed call (e.g. a character outside the vocabulary) and stops listening', async () => {
    const { lab } = fakeLab([], 'the prompt\'s character "€" at position 5 is not in the vocabulary of run 3');
    const play = usePlayground(lab);
    await play.generate(knobs);
    expect(play.error.value).toMatch(/"€"/);
    expect(play.result.value).toBeNull();
    expect(lab.listeners.size).toBe(0);
  });
});

describe('shading and the window note', () => {
  it('shades by improbability: certain tokens clear, impossible ones at 0.6', () => {
    expect(surpriseShade(1)).toBe(0);
    expect(surpriseShade(0)).toBe(0.6);
    expect(surpriseShade(0.5)).toBe(0.3);
  });

  it('says a learned table slides past its block and other schemes read 8 blocks back', () => {
    expect(windowHint('learned', 64, 1)).toMatch(/past 64 tokens the model sees a sliding window of the last 64/);
    expect(windowHint('rope', 64, null)).toMatch(/up to 8 × block = 512 tokens/);
  });
});

import { describe, expect, it } from 'vitest';
import { RunQueue } from '../../src/service/runQueue';

function queue() {
  const started: [number, string][] = [];
  const q = new RunQueue<string>((runId, command) => started.push([runId, command]));
  return { q, started };
}

describe('RunQueue', () => {
  it('starts runs one at a time, in the order they came', () => {
    const { q, started } = queue();
    q.add(1, 'train 1');
    q.add(2, 'train 2');
    q.add(3, 'continue 3');
    expect(q.pump()).toBe(1);
    expect(q.pump()).toBeNull();
    expect(q.state).toEqual({ running: 1, queued: [2, 3] });
    q.finished(1);
    expect(q.pump()).toBe(2);
    q.finished(2);
    expect(q.pump()).toBe(3);
    q.finished(3);
    expect(q.pump()).toBeNull();
    expect(started).toEqual([[1, 'train 1'], [2, 'train 2'], [3, 'continue 3']]);
    expect(q.state).toEqual({ running: null, queued: [] });
  });

  it('ignores a run finishing that is not the one training', () => {
    const { q } = queue();
    q.add(1, 'a');
    q.add(2, 'b');
    q.pump();
    q.finished(2);
    expect(q.pump()).toBeNull();
    expect(q.running).toBe(1);
  });

  it('takes a waiting run out, but not the one training', () => {
    const { q, started } = queue();
    q.add(1, 'a');
    q.add(2, 'b');
    q.add(3, 'c');
    q.pump();
    expect(q.remove(1)).toBe(false);
    expect(q.remove(2)).toBe(true);
    expect(q.remove(2)).toBe(false);
    expect(q.isWaiting(3)).toBe(true);
    expect(q.isWaiting(2)).toBe(false);
    q.finished(1);
    q.pump();
    expect(started.map(([runId]) => runId)).toEqual([1, 3]);
  });

  it('hands back the run a dead host was training, and the waiting runs when drained', () => {
    const { q } = queue();
    for (const runId of [4, 5, 6]) q.add(runId, 'x');
    q.pump();
    expect(q.abandon()).toBe(4);
    expect(q.abandon()).toBeNull();
    expect(q.drain()).toEqual([5, 6]);
    expect(q.pump()).toBeNull();
  });

  it('starts nothing once closed, and refuses new runs', () => {
    const { q, started } = queue();
    q.add(1, 'a');
    q.add(2, 'b');
    expect(q.close()).toEqual([1, 2]);
    expect(q.pump()).toBeNull();
    expect(() => q.add(3, 'c')).toThrow(/closed; run 3 was not queued/);
    expect(started).toEqual([]);
  });
});

import type { SchemeKnob } from './types';

/** The `--pos-scale` knob the additive table schemes share: one flag, one key, each scheme's own meaning. */
export function scaleKnob(help: string): SchemeKnob {
  return { key: 'scale', flag: 'pos-scale', label: 'Scale', help, default: 1, min: 1e-6, max: 1e3, integer: false };
}

/** The positional schemes by name; adding one means a new file and a line here, nothing else. */
import type { PositionalScheme } from './types';
import { none } from './none';
import { integer } from './integer';
import { binary } from './binary';
import { sinusoidal } from './sinusoidal';
import { learned } from './learned';
import { rope } from './rope';
import { t5 } from './t5';
import { alibi } from './alibi';
import { integerNorm } from './integerNorm';
import { sine } from './sine';
import { shaw } from './shaw';
import { transformerXL } from './transformerXL';
import { deberta } from './deberta';
import { xpos } from './xpos';
import { kerple } from './kerple';
import { fire } from './fire';
import { sandwich } from './sandwich';
import { cope } from './cope';

/** The eight core schemes first, then the rest of the family from the source notes, then the 2022– schemes. */
export const SCHEMES: readonly PositionalScheme[] = [none, integer, binary, sinusoidal, learned, rope, t5, alibi, integerNorm, sine, shaw, transformerXL, deberta, xpos, kerple, fire, sandwich, cope];
export const SCHEME_NAMES: readonly string[] = SCHEMES.map((s) => s.name);

export function getScheme(name: string): PositionalScheme | undefined {
  return SCHEMES.find((s) => s.name === name);
}

export function requireScheme(name: string): PositionalScheme {
  const scheme = getScheme(name);
  if (!scheme) throw new Error(`unknown positional scheme ${JSON.stringify(name)}; choose one of ${SCHEME_NAMES.join(', ')}`);
  return scheme;
}

/** The scheme's knobs with defaults filled in; knobs of other schemes are dropped. */
export function resolveSchemeOptions(name: string, given: Record<string, number> = {}): Record<string, number> {
  const options: Record<string, number> = {};
  for (const knob of requireScheme(name).knobs) options[knob.key] = given[knob.key] ?? knob.default;
  return options;
}

/** Every distinct knob flag across schemes (the CLI offers each once, e.g. --pos-scale for integer and binary). */
export function allKnobs(): { flag: string; key: string; help: string; integer: boolean; schemes: string[] }[] {
  const byFlag = new Map<string, { flag: string; key: string; help: string; integer: boolean; schemes: string[] }>();
  for (const scheme of SCHEMES)
    for (const knob of scheme.knobs) {
      const entry = byFlag.get(knob.flag) ?? { flag: knob.flag, key: knob.key, help: knob.help, integer: knob.integer, schemes: [] };
      entry.schemes.push(scheme.name);
      byFlag.set(knob.flag, entry);
    }
  return [...byFlag.values()];
}

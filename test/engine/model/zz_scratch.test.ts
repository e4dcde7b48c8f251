import { it } from 'vitest';
import { useWasmBackend } from '../../helpers/backend';
import { buildModel, logitsOf, maxAbsDiff } from '../../helpers/model';
import { t5Bucket } from '../../../src/engine/model/positional/t5';
useWasmBackend();
it('scratch', () => {
  console.log([110,111,112,113,127].map(n=>t5Bucket(n,32,128)));
  for (const [norm, normType] of [['pre','layer'],['pre','rms'],['post','layer'],['none','layer']] as const) {
    for (const scale of [1, 0.5]) {
      const a = buildModel({ pos: 'integer', posOptions: { scale }, norm, normType, blockSize: 64 }, 3);
      const b = buildModel({ pos: 'none', norm, normType, blockSize: 64 }, 3);
      const toks = [[...Array(50)].map((_, i) => (i * 7) % 11)];
      console.log(norm, normType, scale, maxAbsDiff(logitsOf(a, toks), logitsOf(b, toks)));
    }
  }
});

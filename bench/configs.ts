/** The benchmark configurations of issue 8 (shared by the throughput bench, the profiler and the PyTorch reference). */
export const CONFIGS = {
  /** Not a benchmark: a size small enough to check the bench end to end on a software adapter (SwiftShader). */
  XS: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 16, batchSize: 8 },
  S: { nLayer: 2, nHead: 2, nEmbd: 64, blockSize: 32, batchSize: 32 },
  M: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, batchSize: 32 },
  L: { nLayer: 6, nHead: 6, nEmbd: 192, blockSize: 128, batchSize: 16 },
} as const;
export type ConfigName = keyof typeof CONFIGS;
export type BenchDims = (typeof CONFIGS)[ConfigName];

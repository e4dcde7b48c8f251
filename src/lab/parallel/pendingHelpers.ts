/**
 * A run's helper threads, started before the run's own backend loads, so the threads boot their wasm instance and
 * replica while this thread boots its own (the helpers were the second-largest fixed cost of a short run:
 * docs/PERFORMANCE.md). They guess the backend the run will land on; when it lands elsewhere they are dropped and,
 * where the real backend needs helpers too, started again on it.
 */
import type { BackendInfo, BackendName } from '../../engine/backend';
import type { RunConfig } from '../../engine/config';
import { parameterLayout, type ModelConfig } from '../../engine/model/gpt';
import { replicaOptimizerOf, splitRows } from '../../engine/train/shards';
import { ThreadHelpers } from '../../hosts/gradientThreads/client';

/** Backends that compute on one thread under Node, so a run with threads > 1 needs helper threads on them. */
const ONE_THREAD_BACKENDS: readonly BackendName[] = ['wasm', 'cpu'];

function startHelpers(config: RunConfig, model: ModelConfig, backend: BackendName): Promise<ThreadHelpers> {
  const params = parameterLayout(model).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
  const maxRows = Math.max(...splitRows(config.batchSize, config.threads));
  return ThreadHelpers.start({ count: config.threads - 1, model, params, maxRows, backend, optimizer: replicaOptimizerOf(config) });
}

export class PendingHelpers {
  private constructor(
    private readonly config: RunConfig,
    private readonly model: ModelConfig,
    private readonly guess: BackendName | null,
    private readonly starting: Promise<ThreadHelpers> | null,
  ) {
    // Awaited later (forBackend) or dropped (discard); until then a failed start must not count as unhandled.
    starting?.catch(() => undefined);
  }

  /** Starts the helpers of a run with `threads` > 1 on the backend its choice will most likely load (auto: wasm). */
  static start(config: RunConfig, model: ModelConfig): PendingHelpers {
    const guess = config.threads <= 1 ? null : config.backend === 'auto' ? 'wasm' : ONE_THREAD_BACKENDS.includes(config.backend) ? config.backend : null;
    return new PendingHelpers(config, model, guess, guess ? startHelpers(config, model, guess) : null);
  }

  /**
   * The run's helpers now that its backend is known: the early ones if they guessed it; none on a backend that uses
   * every core itself (the native TensorFlow ones), or for one thread; else fresh ones on `backend`.
   */
  async forBackend(backend: BackendInfo): Promise<ThreadHelpers | undefined> {
    if (backend.name === this.guess) return (await this.starting) ?? undefined;
    this.discard();
    if (this.config.threads <= 1 || !ONE_THREAD_BACKENDS.includes(backend.name)) return undefined;
    return startHelpers(this.config, this.model, backend.name);
  }

  /** Stops the early threads of a run that will not train (it failed before its first step) or trains without them. */
  discard(): void {
    void this.starting?.then((helpers) => helpers.dispose(), () => undefined);
  }
}

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Gives the memory of destroyed VMs back to the system. A VM's linear memory (≈3 MiB) is
 * freed only when V8 collects its `WebAssembly.Memory`, and a worker whose JS heap is small
 * rarely collects: after a busy hour it kept its peak RSS forever. Once the worker has been
 * quiet for `quietMs` after VMs were destroyed, it runs one full collection.
 */
export class IdleCollector {
  #destroyedSince = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #collect = fullGc();

  constructor(
    private readonly quietMs: number,
    private readonly minDestroyed: number,
  ) {}

  /** A VM was destroyed: its memory is garbage now. */
  destroyed(): void {
    this.#destroyedSince++;
    this.activity();
  }

  /** Any request: the collection waits for a quiet spell. */
  activity(): void {
    if (this.#destroyedSince < this.minDestroyed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#destroyedSince = 0;
      this.#collect();
    }, this.quietMs);
    this.#timer.unref();
  }
}

/** `gc()` without `--expose-gc` on the command line (worker threads refuse that flag). */
function fullGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

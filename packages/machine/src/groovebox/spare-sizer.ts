/**
 * Sizes an app's spares to its recent arrivals: an exponentially decayed count of the
 * sessions created for it (half-life `halfLifeMs`), spread over the workers and held between
 * a floor and a cap. A burst of 10 creates raises each of 2 workers' targets to 5, so the next
 * burst finds its VMs ready; a steady 100 sessions/s keeps the cap; a quiet spell brings
 * the target back to the floor (the surplus spares are dropped, which gives their memory back).
 */
export class SpareSizer {
  #count = 0;
  #at: number;

  constructor(
    readonly floor: number,
    readonly cap: number,
    readonly halfLifeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#at = now();
  }

  /** A session was created for this app. */
  arrival(): void {
    this.decay();
    this.#count += 1;
  }

  /** The exponentially weighted arrival rate, sessions per second. */
  get rate(): number {
    this.decay();
    return (this.#count * Math.LN2) / (this.halfLifeMs / 1000);
  }

  /** Spares each of `workers` workers should keep: recent arrivals over the workers, in [floor, cap]. */
  target(workers: number): number {
    this.decay();
    // A remainder of a past burst (under a tenth of a session per worker) does not hold a spare.
    const wanted = Math.ceil(this.#count / Math.max(1, workers) - 0.1);
    return Math.min(Math.max(this.cap, this.floor), Math.max(this.floor, wanted));
  }

  private decay(): void {
    const t = this.now();
    if (t > this.#at) this.#count *= 0.5 ** ((t - this.#at) / this.halfLifeMs);
    this.#at = t;
  }
}

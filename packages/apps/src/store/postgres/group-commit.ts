/** One queued item's outcome in a group: its own answer or its own error. */
export type Settled<O> =
  | { readonly ok: true; readonly value: O }
  | { readonly ok: false; readonly error: unknown };

interface Queued<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: items submitted while a commit runs wait, and the next commit takes them all
 * (up to `maxWeight`; an item heavier than that goes alone). A write on PostgreSQL holds its
 * app's row lock across the transaction's round trips, so concurrent writers committing one
 * transaction each would queue behind every round trip; grouped, they share one. An item alone
 * is committed at once, as before. `commit` answers each item's outcome in order; if it throws,
 * every item of the group fails with that error.
 */
export class GroupCommit<I, O> {
  readonly #queue: Queued<I, O>[] = [];
  #running = false;

  constructor(
    private readonly commit: (items: readonly I[]) => Promise<readonly Settled<O>[]>,
    private readonly weight: (item: I) => number,
    private readonly maxWeight: number,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0, this.#groupSize());
        try {
          const outcomes = await this.commit(group.map((q) => q.item));
          group.forEach((queued, i) => {
            const outcome = outcomes[i];
            if (outcome?.ok) queued.resolve(outcome.value);
            else queued.reject(outcome ? outcome.error : new Error("group commit answered no outcome"));
          });
        } catch (error) {
          for (const queued of group) queued.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** How many queued items the next commit takes: at least one, then while within `maxWeight`. */
  #groupSize(): number {
    let total = this.weight(this.#queue[0]!.item);
    let n = 1;
    while (n < this.#queue.length) {
      const next = this.weight(this.#queue[n]!.item);
      if (total + next > this.maxWeight) break;
      total += next;
      n++;
    }
    return n;
  }
}

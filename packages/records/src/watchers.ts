/** The listeners of one namespace's changes; a listener that throws does not stop the others. */
export class Watchers {
  readonly #listeners = new Set<(key: string | undefined) => void>();

  get size(): number {
    return this.#listeners.size;
  }

  add(listener: (key: string | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  clear(): void {
    this.#listeners.clear();
  }

  emit(key: string | undefined): void {
    for (const listener of this.#listeners) {
      try {
        listener(key);
      } catch {
        // A cache's reload failing is its own business; the others still hear of the change.
      }
    }
  }
}

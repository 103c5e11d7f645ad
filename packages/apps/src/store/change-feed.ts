import type { MixMap } from "@amp/codec";

/** One document changed by a committed write. */
export type DocumentChange =
  | { readonly op: "put"; readonly id: string; readonly doc: MixMap }
  | { readonly op: "delete"; readonly id: string };

/** A committed batch: the app's change sequence after it, and what it changed. */
export interface ChangeEvent {
  readonly app: string;
  readonly seq: number;
  readonly changes: readonly DocumentChange[];
}

export type ChangeListener = (event: ChangeEvent) => void;

/** In-process fan-out of committed changes; a throwing listener never affects the writer or other listeners. */
export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ChangeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}

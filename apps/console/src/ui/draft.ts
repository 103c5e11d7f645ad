import { useCallback, useState } from "preact/hooks";

const PREFIX = "amp-console.draft.";

/**
 * Form state that outlives a trip to the sign-in page: every change is kept in sessionStorage
 * under `key` until `clear()` (after a successful save) or until the tab closes.
 */
export function useDraft<T>(key: string, initial: T): [T, (value: T) => void, () => void] {
  const storageKey = `${PREFIX}${key}`;
  const [value, setValue] = useState<T>(() => {
    const kept = sessionStorage.getItem(storageKey);
    if (kept === null) return initial;
    try {
      return JSON.parse(kept) as T;
    } catch {
      return initial;
    }
  });
  const set = useCallback(
    (next: T) => {
      sessionStorage.setItem(storageKey, JSON.stringify(next));
      setValue(next);
    },
    [storageKey],
  );
  const clear = useCallback(() => {
    sessionStorage.removeItem(storageKey);
  }, [storageKey]);
  return [value, set, clear];
}

/** Whether a draft is kept under `key` (a view then shows it instead of what it loads). */
export function hasDraft(key: string): boolean {
  return sessionStorage.getItem(`${PREFIX}${key}`) !== null;
}

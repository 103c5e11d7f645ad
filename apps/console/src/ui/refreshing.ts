import { useEffect } from "preact/hooks";

/** How often the live lists (sessions, broker clients) are read again. */
export const REFRESH_MS = 5000;

/** Runs `load` now and every `REFRESH_MS` while the view is shown. */
export function useRefreshing(load: () => unknown): void {
  // Once per mount: `load` reads the current state itself.
  useEffect(() => {
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
}

import { GrooveboxMachine, type Machine } from "@amp/machine";

/** A busy VM answers after its interaction; past this the figure is left out rather than waited for. */
const MEMORY_WAIT_MS = 250;

/** The VM's linear memory in bytes; undefined for a native machine, a gone VM or one busy too long. */
export async function memoryBytes(machine: Machine): Promise<number | undefined> {
  if (!(machine instanceof GrooveboxMachine)) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), MEMORY_WAIT_MS);
  });
  try {
    return await Promise.race([machine.memoryBytes().catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

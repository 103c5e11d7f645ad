/** A copy of compiled app code whose `mix_grooveboxBuildMin` says `build` (only machine's build checks read it). */
export function withBuildMin(app: Uint8Array, build: number): Uint8Array {
  const copy = app.slice();
  const name = new TextEncoder().encode("mix_grooveboxBuildMin");
  for (let i = 0; i + name.length + 4 <= copy.length; i++) {
    if (name.every((b, j) => copy[i + j] === b)) {
      new DataView(copy.buffer).setInt32(i + name.length, build, true);
      return copy;
    }
  }
  throw new Error("no mix_grooveboxBuildMin section");
}

import { MixCase, type MixMap, TaggedString } from "../src/index.js";

/** A small deterministic PRNG (mulberry32) so every run measures the same documents. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua café naïve résumé 日本語 emoji 🎵".split(
    " ",
  );
const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * Documents shaped like those of a Remix app's store: refs to revisions and
 * other documents, ISO timestamps, cases for states and variants, nested
 * maps of fields, arrays of line items.
 */
export function appDocuments(count: number, seed = 42): MixMap[] {
  const next = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const int = (max: number) => Math.floor(next() * max);
  const id = () => Array.from({ length: 32 }, () => pick([...ID_CHARS])).join("");
  const ref = () => new TaggedString("ref", id());
  const text = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(" ");
  const date = () => new Date(1.6e12 + int(1e11)).toISOString();
  const docs: MixMap[] = [];
  for (let i = 0; i < count; i++) {
    docs.push({
      _rmx_type: "order",
      _rmx_id: id(),
      _rmx_rev: ref(),
      _rmx_previous: ref(),
      _rmx_created_at: date(),
      _rmx_created_by: `user${int(500)}@example.com`,
      title: text(3 + int(5)),
      description: text(10 + int(30)),
      status:
        next() < 0.5
          ? new MixCase("order.open")
          : new MixCase("order.shipped", { at: date(), carrier: pick(["ups", "dhl"]) }),
      priority: int(5),
      total: Math.round(next() * 100000) / 100,
      paid: next() < 0.7,
      discount: next() < 0.5 ? null : next(),
      customer: {
        ref: ref(),
        name: text(2),
        address: { street: text(3), city: pick(WORDS), zip: String(10000 + int(89999)) },
      },
      items: Array.from({ length: 2 + int(8) }, () => ({
        product: ref(),
        quantity: 1 + int(20),
        price: Math.round(next() * 10000) / 100,
        kind: next() < 0.2 ? new MixCase("item.gift", text(4)) : new MixCase("item.normal"),
      })),
      tags: Array.from({ length: int(6) }, () => pick(WORDS)),
      history: Array.from({ length: int(4) }, () => [date(), ref(), int(1000)]),
    });
  }
  return docs;
}

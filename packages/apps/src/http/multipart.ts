import { AppsError } from "../errors.js";

/** Largest part header block, and largest non-file field (skipped, but bounded). */
const MAX_PART_HEADERS = 16 * 1024;
const MAX_FIELD_BYTES = 64 * 1024;
const MAX_PREAMBLE = 16 * 1024;
const CRLFCRLF = Buffer.from("\r\n\r\n");

/** The boundary of a `multipart/form-data` content type, or undefined when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw new AppsError("bad_request", "multipart/form-data without a boundary");
  return boundary;
}

/**
 * The bytes of the one file field of a `multipart/form-data` body, streamed as they arrive
 * (a browser form upload): the body is never buffered whole, only a boundary's length of it.
 * Other (non-file) fields are skipped, up to 64 KiB each. Throws `bad_request` for no file,
 * a second file, or a malformed or cut body; the size limit is the caller's (on `source`).
 */
export async function* multipartFile(
  source: AsyncIterable<Uint8Array>,
  boundary: string,
): AsyncGenerator<Uint8Array> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The first delimiter has no CRLF before it: start with one so every delimiter looks alike.
  let buf: Buffer = Buffer.from("\r\n");
  let state = "preamble" as "preamble" | "after" | "headers" | "file" | "field" | "done";
  let files = 0;
  let fieldBytes = 0;
  let skipped = 0;
  const bad = (why: string) => new AppsError("bad_request", `multipart body: ${why}`);

  // Each pass consumes input or returns to wait for more, so the loop always ends.
  const step = function* (): Generator<Uint8Array> {
    for (;;) {
      if (state === "preamble") {
        const at = buf.indexOf(delimiter);
        if (at < 0) {
          skipped += Math.max(0, buf.length - delimiter.length);
          if (skipped > MAX_PREAMBLE) throw bad("no boundary found");
          buf = buf.subarray(Math.max(0, buf.length - delimiter.length));
          return;
        }
        buf = buf.subarray(at + delimiter.length);
        state = "after";
      } else if (state === "after") {
        if (buf.length < 2) return;
        const two = buf.subarray(0, 2).toString("latin1");
        if (two === "--") {
          state = "done";
          return;
        }
        // Transport padding (spaces/tabs) may precede the CRLF.
        const eol = buf.indexOf("\r\n");
        if (eol < 0) {
          if (buf.length > 256) throw bad("bad delimiter line");
          return;
        }
        if (!/^[ \t]*$/.test(buf.subarray(0, eol).toString("latin1"))) throw bad("bad delimiter line");
        buf = buf.subarray(eol + 2);
        state = "headers";
      } else if (state === "headers") {
        const end = buf.indexOf(CRLFCRLF);
        // A part without headers starts straight with its blank line.
        const empty = buf.length >= 2 && buf[0] === 13 && buf[1] === 10;
        if (end < 0 && !empty) {
          if (buf.length > MAX_PART_HEADERS) throw bad("part headers too long");
          return;
        }
        const headerText = empty ? "" : buf.subarray(0, end).toString("utf8");
        buf = buf.subarray(empty ? 2 : end + 4);
        const disposition = /^content-disposition:\s*(.*)$/im.exec(headerText)?.[1] ?? "";
        const isFile = /;\s*filename\*?=/i.test(disposition);
        if (isFile) {
          files++;
          if (files > 1) throw bad("more than one file; send one .remix");
          state = "file";
        } else {
          fieldBytes = 0;
          state = "field";
        }
      } else if (state === "file" || state === "field") {
        const at = buf.indexOf(delimiter);
        const upto = at >= 0 ? at : Math.max(0, buf.length - delimiter.length + 1);
        if (upto > 0) {
          if (state === "file") yield Uint8Array.prototype.slice.call(buf.subarray(0, upto));
          else {
            fieldBytes += upto;
            if (fieldBytes > MAX_FIELD_BYTES) throw bad("a form field is too large");
          }
        }
        buf = buf.subarray(upto);
        if (at < 0) return;
        buf = buf.subarray(delimiter.length);
        state = "after";
      } else {
        return; // done: the epilogue is ignored
      }
    }
  };

  for await (const chunk of source) {
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    yield* step();
    if (state === "done") buf = Buffer.alloc(0);
  }
  yield* step();
  if (state !== "done") throw bad(files === 0 && state === "preamble" ? "no boundary found" : "cut short");
  if (files === 0) throw bad("no file field; send the .remix as the form's file");
}

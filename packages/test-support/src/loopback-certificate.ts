import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A self-signed certificate's PEM files: it is its own CA, so `certFile` is what a client trusts. */
export interface LoopbackCertificate {
  readonly keyFile: string;
  readonly certFile: string;
}

/**
 * Makes, in `dir` with the `openssl` CLI, a one-day self-signed P-256 certificate for localhost
 * and 127.0.0.1: for test servers that speak TLS on loopback (an identity provider, Redis).
 */
export async function makeLoopbackCertificate(dir: string): Promise<LoopbackCertificate> {
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  await run("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ...["-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=localhost"],
    ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
  ]);
  return { keyFile, certFile };
}

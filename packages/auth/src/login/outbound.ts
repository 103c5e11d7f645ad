import { LoginError } from "./errors.js";

/** Which provider hosts the server may call. Deny unless listed. */
export interface OutboundPolicy {
  /** Host names, or `*.suffix` for any subdomain of `suffix`. Ports are ignored. */
  allowedHosts: readonly string[];
  /** Allow plain `http:` (for loopback test peers). Default false. */
  allowInsecureHttp?: boolean;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** Largest response body accepted from a provider. Default 1 MiB. */
  maxResponseBytes?: number;
}

/** Hosts every deployment may reach without listing them: Apple's fixed endpoints. */
const BUILT_IN_HOSTS = ["appleid.apple.com"];

export function isAllowedUrl(policy: OutboundPolicy, url: URL): boolean {
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowInsecureHttp)) return false;
  if (url.username || url.password) return false;
  const host = url.hostname.toLowerCase();
  return [...BUILT_IN_HOSTS, ...policy.allowedHosts].some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith("*.") ? host.endsWith(p.slice(1)) : host === p;
  });
}

/** Throws a 400 `host_not_allowed` when `url` is outside the policy. */
export function assertAllowedUrl(policy: OutboundPolicy, url: string | URL): void {
  const parsed = typeof url === "string" ? new URL(url) : url;
  if (!isAllowedUrl(policy, parsed)) {
    throw new LoginError("host_not_allowed", `outbound requests to ${parsed.origin} are not allowed`);
  }
}

/**
 * A `fetch` that refuses hosts outside the policy (also those a discovery document
 * names), times out, and caps the response size.
 */
export function guardedFetch(policy: OutboundPolicy): typeof fetch {
  const timeoutMs = policy.timeoutMs ?? 10_000;
  const maxBytes = policy.maxResponseBytes ?? 1024 * 1024;
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    assertAllowedUrl(policy, url);
    const response = await fetch(input, {
      ...init,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = NULL_BODY_STATUSES.has(response.status) ? null : await readLimited(response, maxBytes);
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

async function readLimited(response: Response, maxBytes: number): Promise<Uint8Array | null> {
  if (!response.body) return null;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      throw new LoginError("provider_response_too_large", "provider response exceeds the size limit", 502);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

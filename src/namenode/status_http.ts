/**
 * The HTTP side of `namenode serve --http`: `GET /` the status page, `GET /fragment` its body
 * (what the page's script fetches), `GET /status.json` the report; anything else 404, any
 * method but GET and HEAD 405. Read-only and unauthenticated: bind it to loopback or a
 * management network (docs/namenode.md).
 *
 * @module
 */
import { formatNodeAddress } from "../core/address.ts";
import type { StatusReport } from "./status.ts";
import { PAGE_REFRESH_MS, renderStatusFragment, renderStatusPage } from "./status_page.ts";

/**
 * Options of {@linkcode serveStatusHttp}.
 *
 * @example
 * ```ts
 * import type { StatusHttpOptions } from "./status_http.ts";
 * const options: StatusHttpOptions = { hostname: "127.0.0.1", port: 0, report: () => Promise.reject(new Error("none")) };
 * ```
 */
export interface StatusHttpOptions {
  /** The address to listen on. */
  readonly hostname: string;
  /** The port (0 picks a free one). */
  readonly port: number;
  /** Makes the report (a failure is a 503 naming it). */
  readonly report: () => Promise<StatusReport>;
  /** How often the page refreshes itself (default {@linkcode PAGE_REFRESH_MS}). */
  readonly refreshMs?: number;
}

/**
 * A running status server.
 *
 * @example
 * ```ts
 * import type { StatusHttpServer } from "./status_http.ts";
 * const fake: StatusHttpServer = { address: "127.0.0.1:1", shutdown: () => Promise.resolve() };
 * ```
 */
export interface StatusHttpServer {
  /** `HOST:PORT` it listens on. */
  readonly address: string;
  /** Stops it. */
  shutdown(): Promise<void>;
}

/**
 * Answers one HTTP request.
 *
 * @example
 * ```ts
 * import { handleStatusHttp } from "./status_http.ts";
 * const reply = await handleStatusHttp(new Request("http://x/nope"), () => Promise.reject(new Error("unused")));
 * console.log(reply.status); // 404
 * ```
 *
 * @param request The request.
 * @param report Makes the report.
 * @param refreshMs How often the page refreshes itself.
 * @returns The reply.
 */
export async function handleStatusHttp(
  request: Request,
  report: () => Promise<StatusReport>,
  refreshMs: number = PAGE_REFRESH_MS,
): Promise<Response> {
  const path = new URL(request.url).pathname;
  const kind = path === "/"
    ? "page"
    : path === "/fragment"
    ? "fragment"
    : path === "/status.json"
    ? "json"
    : null;
  if (kind === null) return text(404, `not found: ${path.slice(0, 200)}`);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return text(405, `method ${request.method.slice(0, 20)} not allowed`, { allow: "GET, HEAD" });
  }
  let status: StatusReport;
  try {
    status = await report();
  } catch (error) {
    return text(503, `status unavailable: ${error instanceof Error ? error.message : error}`);
  }
  const headers: Record<string, string> = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  };
  if (kind === "json") {
    return new Response(JSON.stringify(status), {
      headers: { ...headers, "content-type": "application/json" },
    });
  }
  if (kind === "fragment") {
    return new Response(renderStatusFragment(status), {
      headers: { ...headers, "content-type": "text/html; charset=utf-8" },
    });
  }
  const nonce = [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return new Response(renderStatusPage(status, nonce, refreshMs), {
    headers: {
      ...headers,
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; ` +
        "style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; " +
        "form-action 'none'; frame-ancestors 'none'",
    },
  });
}

function text(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...extra },
  });
}

/**
 * Serves the status page over HTTP (Deno.serve) until shut down.
 *
 * @example
 * ```ts
 * import { serveStatusHttp } from "./status_http.ts";
 * const server = serveStatusHttp({
 *   hostname: "127.0.0.1", port: 0, report: () => Promise.reject(new Error("no namenode")),
 * });
 * const reply = await fetch(`http://${server.address}/status.json`);
 * console.log(reply.status, (await reply.text()).trim()); // 503 "status unavailable: no namenode"
 * await server.shutdown();
 * ```
 *
 * @param options Address and report.
 * @returns The running server.
 * @throws {Deno.errors.AddrInUse} and the other errors of binding.
 */
export function serveStatusHttp(options: StatusHttpOptions): StatusHttpServer {
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: () => {},
  }, (request) => handleStatusHttp(request, options.report, options.refreshMs));
  return { address: formatNodeAddress(server.addr), shutdown: () => server.shutdown() };
}

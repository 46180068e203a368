/**
 * Node addresses as people type them: `HOST:PORT`, with an IPv6 literal in brackets
 * (`[::1]:13100`). Parsing is strict — no default port, no scheme, no path — so a typo is
 * reported where it was made instead of as a connection failure to some other place.
 *
 * @module
 */
import { CdfsError } from "./errors.ts";

/**
 * A parsed node address, ready for `Deno.connect`.
 *
 * @example
 * ```ts
 * import type { NodeAddress } from "./address.ts";
 * const address: NodeAddress = { hostname: "::1", port: 13100 };
 * ```
 */
export interface NodeAddress {
  /** A host name, an IPv4 literal, or an IPv6 literal without brackets. */
  hostname: string;
  /** The TCP port, 1..65535. */
  port: number;
}

/**
 * Options of {@linkcode parseNodeAddress}.
 *
 * @example
 * ```ts
 * import type { ParseNodeAddressOptions } from "./address.ts";
 * const options: ParseNodeAddressOptions = { what: "--node", code: "USAGE" };
 * ```
 */
export interface ParseNodeAddressOptions {
  /** How to call the value in error messages (default "node address"). */
  what?: string;
  /**
   * The code of the error: `USAGE` (the default) for text a person typed, `BAD_REQUEST` for
   * text that came from a peer.
   */
  code?: "USAGE" | "BAD_REQUEST";
  /** Accept port 0 ("any free port"), as a listening address may have. Default false. */
  allowPortZero?: boolean;
}

const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const MAX_HOSTNAME_LENGTH = 253;
const EXAMPLE = "expected HOST:PORT, e.g. 127.0.0.1:13100 or [::1]:13100";

/**
 * Parses `HOST:PORT` or `[IPV6]:PORT`. The host is a DNS name (RFC 1123 labels) or an IPv4
 * literal; an IPv6 literal must be in brackets (otherwise its colons make the port
 * ambiguous); the port is decimal, 1..65535.
 *
 * @example
 * ```ts
 * import { parseNodeAddress } from "./address.ts";
 * console.log(parseNodeAddress("dn1.example:13100")); // { hostname: "dn1.example", port: 13100 }
 * console.log(parseNodeAddress("[::1]:13100")); // { hostname: "::1", port: 13100 }
 * ```
 *
 * @param text The address.
 * @param options The name of the value and the error code for messages.
 * @returns The host name and port.
 * @throws {CdfsError} `USAGE` (or `options.code`) saying what is wrong with `text`.
 */
export function parseNodeAddress(text: string, options: ParseNodeAddressOptions = {}): NodeAddress {
  const what = options.what ?? "node address";
  const fail = (reason: string): never => {
    throw new CdfsError(options.code ?? "USAGE", `${what} ${shown(text)}: ${reason}`);
  };
  let hostPart: string;
  let portPart: string;
  let ipv6 = false;
  if (text.includes("/")) fail(`a node address has no scheme or path (${EXAMPLE})`);
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) fail(`unclosed "[" (${EXAMPLE})`);
    hostPart = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (!rest.startsWith(":")) fail(`no port after "]" (${EXAMPLE})`);
    portPart = rest.slice(1);
    ipv6 = true;
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) fail(`no port (${EXAMPLE})`);
    hostPart = text.slice(0, colon);
    portPart = text.slice(colon + 1);
    if (hostPart.includes(":")) fail(`an IPv6 address must be in brackets, e.g. [::1]:13100`);
  }
  if (hostPart.length === 0) fail(`no host before the port (${EXAMPLE})`);
  const hostname = ipv6 ? checkIpv6(hostPart, fail) : checkHostname(hostPart, fail);
  return { hostname, port: checkPort(portPart, fail, options.allowPortZero === true) };
}

/**
 * Formats an address the way {@linkcode parseNodeAddress} reads it (brackets around IPv6).
 *
 * @example
 * ```ts
 * import { formatNodeAddress } from "./address.ts";
 * console.log(formatNodeAddress({ hostname: "::1", port: 13100 })); // "[::1]:13100"
 * ```
 *
 * @param address The address.
 * @returns `HOST:PORT` or `[IPV6]:PORT`.
 */
export function formatNodeAddress(address: NodeAddress): string {
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return `${host}:${address.port}`;
}

function checkPort(text: string, fail: (reason: string) => never, allowZero: boolean): number {
  const lowest = allowZero ? 0 : 1;
  if (text.length === 0) fail(`no port after ":" (${EXAMPLE})`);
  if (!/^[0-9]{1,5}$/.test(text)) fail(`port ${shown(text)} is not a number in ${lowest}..65535`);
  const port = Number(text);
  if (port < lowest || port > 65535) fail(`port ${port} is outside ${lowest}..65535`);
  return port;
}

function checkHostname(host: string, fail: (reason: string) => never): string {
  if (host.length > MAX_HOSTNAME_LENGTH) {
    fail(`host name is ${host.length} characters long, the limit is ${MAX_HOSTNAME_LENGTH}`);
  }
  // A trailing dot (a fully qualified name) is allowed; empty labels elsewhere are not.
  const labels = (host.endsWith(".") ? host.slice(0, -1) : host).split(".");
  for (const label of labels) {
    if (!HOST_LABEL.test(label)) {
      fail(
        `host ${shown(host)} is not a host name or IPv4 address ` +
          "(letters, digits and '-' in dot-separated labels)",
      );
    }
  }
  return host;
}

function checkIpv6(host: string, fail: (reason: string) => never): string {
  // The URL parser knows every IPv6 literal form (compressed, embedded IPv4); a zone id
  // ("%eth0") is not accepted by it, nor here.
  let valid = /^[0-9A-Fa-f:.]+$/.test(host) && host.includes(":");
  if (valid) {
    try {
      new URL(`http://[${host}]/`);
    } catch {
      valid = false;
    }
  }
  if (!valid) fail(`${shown(host)} is not an IPv6 address`);
  return host;
}

function shown(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/**
 * The canonical `IP:PORT` of an address whose host is a literal IP (dotted-decimal IPv4
 * without leading zeros, or a bracketed IPv6 literal, compressed the URL parser's way), or
 * undefined for anything else: a host name, or a form some resolvers read as an IP and others
 * as a name (`0177.0.0.1`, `127.1`). A literal needs no resolution, so comparing it with a
 * list of literals says exactly where a connection would go (how a datanode checks a CODING
 * request's nodes against its peers, docs/protocol.md, CODING).
 *
 * @example
 * ```ts
 * import { literalNodeAddress } from "./address.ts";
 * console.log(literalNodeAddress("[0:0::1]:13100")); // "[::1]:13100"
 * console.log(literalNodeAddress("localhost:13100"), literalNodeAddress("0177.0.0.1:1")); // undefined undefined
 * ```
 *
 * @param text The address, `HOST:PORT`.
 * @returns Its canonical form, or undefined when it is no literal (or no valid address).
 */
export function literalNodeAddress(text: string): string | undefined {
  let address: NodeAddress;
  try {
    address = parseNodeAddress(text, { code: "BAD_REQUEST" });
  } catch {
    return undefined;
  }
  const { hostname, port } = address;
  if (hostname.includes(":")) {
    const canonical = new URL(`http://[${hostname}]/`).hostname; // "[::1]"
    return `${canonical}:${port}`;
  }
  return IPV4.test(hostname) ? `${hostname}:${port}` : undefined;
}

/** Dotted-decimal IPv4, each part 0..255 without leading zeros. */
const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/**
 * Whether an address is a literal loopback address: `127.0.0.0/8` or `[::1]`. Host names
 * (`localhost` too) are not: what they resolve to is not known here.
 *
 * @example
 * ```ts
 * import { isLoopbackAddress } from "./address.ts";
 * console.log(isLoopbackAddress("127.0.0.2:1"), isLoopbackAddress("[::1]:1")); // true true
 * console.log(isLoopbackAddress("localhost:1"), isLoopbackAddress("10.0.0.1:1")); // false false
 * ```
 *
 * @param text The address, `HOST:PORT`.
 * @returns True for a loopback literal.
 */
export function isLoopbackAddress(text: string): boolean {
  const literal = literalNodeAddress(text);
  return literal !== undefined && (literal.startsWith("127.") || literal.startsWith("[::1]:"));
}

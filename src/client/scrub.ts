/**
 * Asking a datanode for one scrub pass now (docs/protocol.md, SCRUB): the request, its progress
 * replies, and the summary that ends it.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { FRAME_TYPE } from "../protocol/frame.ts";
import { PeerError } from "../protocol/peer_error.ts";
import { parseResponse } from "../protocol/response_validation.ts";
import type { ScrubRequest, ScrubSummary } from "../protocol/scrub_messages.ts";
import type { DataNodeClient } from "./datanode_client.ts";

/**
 * Options of {@linkcode scrubNode}.
 *
 * @example
 * ```ts
 * import type { ScrubNodeOptions } from "./scrub.ts";
 * const options: ScrubNodeOptions = { rate: 64 << 20, onProgress: (bytes) => console.log(bytes) };
 * ```
 */
export interface ScrubNodeOptions {
  /** Bytes per second (default: the node's scrub rate, or unlimited when it has none). */
  rate?: number;
  /** Told the data bytes the node verified so far, as it reports them. */
  onProgress?: (bytes: number) => void;
}

/**
 * Runs one scrub pass on the node of `client` and returns what it found. The node sends
 * progress (or keepalives) at least every few seconds, so a long pass never trips the
 * connection's idle timeout.
 *
 * @example
 * Not run by `deno test --doc`: it needs a running datanode.
 * ```ts ignore
 * using client = await DataNodeClient.connect("127.0.0.1:13100");
 * const { blocks, corrupt, quarantined } = await scrubNode(client);
 * ```
 *
 * @param client The node's client (serves nothing else meanwhile).
 * @param options Rate and progress callback.
 * @returns The pass's summary.
 * @throws {CdfsError} `BUSY` when another requested pass runs there, `BAD_REQUEST` for a bad
 *   rate, connection errors; each naming the node.
 */
export async function scrubNode(
  client: DataNodeClient,
  options: ScrubNodeOptions = {},
): Promise<ScrubSummary> {
  const request: ScrubRequest = { op: "SCRUB" };
  if (options.rate !== undefined) request.rate = options.rate;
  const exchange = await client.openExchange(request);
  try {
    for (;;) {
      const body = await exchange.conn.readJsonFrame(FRAME_TYPE.RESPONSE);
      if (body === null) {
        throw new CdfsError("UNAVAILABLE", "the node closed the connection during the scrub");
      }
      const reply = parseResponse("SCRUB", body);
      if ("progress" in reply) {
        options.onProgress?.(reply.progress);
        continue;
      }
      exchange.done();
      return reply.scrubbed;
    }
  } catch (e) {
    // An ERROR reply ends the exchange cleanly; anything else leaves the connection unusable.
    if (e instanceof PeerError) {
      exchange.done();
    } else {
      exchange.detach();
      exchange.conn.close();
    }
    throw exchange.error(e);
  }
}

/**
 * A datanode's `--peers-file`: the addresses of its cluster's datanodes, the only ones its
 * CODING runs may connect to (`src/datanode/peers.ts`). Either one `IP:PORT` per line (blank
 * lines and `#` comments skipped), or a cdfs cluster file (`cluster.json`, recognized by its
 * opening `{`), whose nodes' addresses are taken: `cluster up` gives every node its own
 * cluster file, so the nodes learn each other's addresses (and the relays' of an emulated
 * network) once the file says the cluster is up.
 *
 * The file is read again when it changes (its size or modification time), not otherwise.
 *
 * @module
 */
import { literalNodeAddress, parseNodeAddress } from "../core/address.ts";
import { CdfsError } from "../core/errors.ts";
import { clusterNodeAddresses } from "./cluster_file.ts";
import { parseClusterFile } from "./cluster_file_parse.ts";

/** The largest peers file read (as the largest cluster file). */
const MAX_PEERS_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Parses the text of a peers file.
 *
 * @example
 * ```ts
 * import { parsePeersFile } from "./peers_file.ts";
 * console.log(parsePeersFile("# lab\n10.0.0.1:13100\n\n[::1]:13101\n", "peers.txt"));
 * // ["10.0.0.1:13100", "[::1]:13101"]
 * ```
 *
 * @param text The file's text.
 * @param path The file's name, for errors.
 * @returns The addresses, canonical.
 * @throws {CdfsError} `USAGE` naming the file and line of a malformed address or a host name
 * (a cluster file's own errors as `readClusterFile` reports them).
 */
export function parsePeersFile(text: string, path: string): string[] {
  if (text.trimStart().startsWith("{")) {
    return clusterNodeAddresses(parseClusterFile(text, path));
  }
  const addresses: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    const what = `--peers-file ${path} line ${i + 1}:`;
    parseNodeAddress(line, { what });
    const literal = literalNodeAddress(line);
    if (literal === undefined) {
      throw new CdfsError(
        "USAGE",
        `${what} ${JSON.stringify(line)} is a host name; a peer is a literal IP:PORT ` +
          "(host names are never resolved for a request)",
      );
    }
    addresses.push(literal);
  });
  return addresses;
}

/**
 * A source of peers reading a peers file, again whenever it has changed.
 *
 * @example
 * ```ts
 * import { peersFileSource } from "./peers_file.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "127.0.0.1:13100\n");
 * console.log(await peersFileSource(path).fetch()); // ["127.0.0.1:13100"]
 * await Deno.remove(path);
 * ```
 *
 * @param path The file.
 * @returns The source (`PeerSource` of `src/datanode/peers.ts`).
 */
export function peersFileSource(path: string): { name: string; fetch(): Promise<string[]> } {
  let seen: { key: string; addresses: string[] } | undefined;
  return {
    name: `--peers-file ${path}`,
    fetch: async () => {
      let info: Deno.FileInfo;
      try {
        info = await Deno.stat(path);
      } catch (e) {
        throw new CdfsError("USAGE", `--peers-file ${path}: ${(e as Error).message}`);
      }
      if (!info.isFile) throw new CdfsError("USAGE", `--peers-file ${path}: not a regular file`);
      if (info.size > MAX_PEERS_FILE_BYTES) {
        throw new CdfsError("USAGE", `--peers-file ${path}: ${info.size} bytes, too large`);
      }
      // A rewrite (cluster files are renamed over) changes the inode, the size or the time.
      const key = `${info.ino}:${info.size}:${info.mtime?.getTime()}`;
      if (seen !== undefined && seen.key === key && info.mtime !== null) return seen.addresses;
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(path));
      } catch (e) {
        throw new CdfsError("USAGE", `--peers-file ${path}: ${(e as Error).message}`);
      }
      const addresses = parsePeersFile(text, path);
      seen = { key, addresses };
      return addresses;
    },
  };
}

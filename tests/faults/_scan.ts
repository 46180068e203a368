/**
 * What the fault and soak tests check after the damage: every block any datanode lists is
 * readable whole (RETRIEVE verifies each chunk's checksum) and has the right content, judged by
 * its name against digests the test knows ({@linkcode DigestBook}). A block that is listed but
 * cut short, or a coded block computed from a cut stream, fails here.
 *
 * @module
 */
import { DataNodeClient } from "../../src/client/datanode_client.ts";

/** SHA-256 of bytes, hex. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The digests blocks must have: by exact id (a STORE's block), or by the suffix of an object's
 * block (`.part3`, `.coded7`: every object of the test is made of the same bytes with the same
 * code and chunk size, so its blocks of one name are equal whatever the object's id).
 */
export class DigestBook {
  readonly #byId = new Map<string, string>();
  readonly #bySuffix = new Map<string, string>();

  /** The digest block `id` must have. */
  setId(id: string, digest: string): void {
    this.#byId.set(id, digest);
  }

  /** Forgets a block that the test deleted. */
  deleteId(id: string): void {
    this.#byId.delete(id);
  }

  /** The digest every block named `*<suffix>` must have. */
  setSuffix(suffix: string, digest: string): void {
    this.#bySuffix.set(suffix, digest);
  }

  /** The digest block `id` must have, or undefined when the book does not say. */
  expected(id: string): string | undefined {
    const exact = this.#byId.get(id);
    if (exact !== undefined) return exact;
    const suffix = /\.(part|coded)\d+$/.exec(id)?.[0];
    return suffix === undefined ? undefined : this.#bySuffix.get(suffix);
  }
}

/** Reads a whole block into memory (RETRIEVE: the node verifies each chunk's checksum). */
export async function readBlock(
  client: DataNodeClient,
  id: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  await client.retrieve(id, (chunk) => {
    chunks.push(chunk.slice());
    length += chunk.length;
  });
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** What a scan found. */
export interface ScanReport {
  /** Blocks read whole. */
  blocks: number;
  /** Blocks whose digest the book knew and matched. */
  verified: number;
  /** One line per block that was unreadable or wrong, naming the node and the block. */
  problems: string[];
}

/**
 * Reads every block of every node (or only those starting with `prefix`) and compares it with
 * the book.
 *
 * @param nodes The nodes' addresses.
 * @param book The digests the blocks must have.
 * @param prefix Only blocks whose id starts with this.
 */
export async function scanBlocks(
  nodes: readonly string[],
  book: DigestBook,
  prefix?: string,
): Promise<ScanReport> {
  const report: ScanReport = { blocks: 0, verified: 0, problems: [] };
  await Promise.all(nodes.map(async (node) => {
    using client = await DataNodeClient.connect(node);
    const listed = await Array.fromAsync(
      client.listAll(prefix === undefined ? {} : { prefix }),
    );
    for (const { block } of listed) {
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await readBlock(client, block);
      } catch (error) {
        report.problems.push(`${node} ${block}: unreadable: ${(error as Error).message}`);
        continue;
      }
      report.blocks++;
      const expected = book.expected(block);
      if (expected === undefined) continue;
      const digest = await sha256Hex(bytes);
      if (digest === expected) report.verified++;
      else report.problems.push(`${node} ${block}: ${bytes.length} bytes, wrong digest`);
    }
  }));
  return report;
}

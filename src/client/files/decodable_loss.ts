/**
 * Which datanodes a file can lose and still be read: for experiments that stop datanodes on
 * purpose (`cdfs cluster stop-node --count N --decodable-for NAME`). A code that is not MDS,
 * such as RapidRAID (16,11), cannot decode every loss of n - k coded blocks (47 of the 4368
 * losses of 5 for RapidRAID), and a file's blocks lie on datanodes its namenode chose, so "stop
 * datanodes 0 to 4" is a loss the file survives only most of the time. This picks a loss it
 * survives: the first set of the given size, in the order of the candidates, whose remaining
 * copies still decode the file (the namenode's own verdict, `code_analysis.ts`).
 *
 * @module
 */
import { nextSubset } from "../../core/arrays.ts";
import { CdfsError } from "../../core/errors.ts";
import { CodeCatalog } from "../../namenode/code_analysis.ts";
import type { FileView } from "../../namenode/responses.ts";

/**
 * The first `count` candidates, in lexicographic order of their positions, whose loss leaves
 * `file` readable from its other stored copies on live datanodes.
 *
 * @example
 * ```ts
 * import { decodableLoss } from "./decodable_loss.ts";
 * const block = (index: number, node: string) => ({
 *   block: `f1.part${index}`, kind: "part" as const, index, node, address: null, alive: true,
 *   state: "stored" as const,
 * });
 * const file = {
 *   fileId: 1, objectId: "f1", name: "a", code: "replication", length: 1, digest: null,
 *   state: "replicated" as const, created: "", committed: null, version: 2,
 *   blocks: [block(0, "dn0"), block(0, "dn1")],
 * };
 * console.log(await decodableLoss(file, ["dn0", "dn1", "dn2"], 2)); // [ "dn0", "dn2" ]
 * ```
 *
 * @param file The file, as the namenode shows it.
 * @param candidates Datanode ids that may be lost, in the order to try them.
 * @param count How many to lose.
 * @param catalog Decides decodability (default: a new one, loading codes by name).
 * @returns The datanode ids, in the order of `candidates`.
 * @throws {CdfsError} `USAGE` when there are fewer candidates than `count`; `SINGULAR` when
 * no such loss leaves the file readable; `UNAVAILABLE` when its code cannot be loaded here.
 */
export async function decodableLoss(
  file: FileView,
  candidates: readonly string[],
  count: number,
  catalog: CodeCatalog = new CodeCatalog(),
): Promise<string[]> {
  if (!Number.isSafeInteger(count) || count < 1 || count > candidates.length) {
    throw new CdfsError(
      "USAGE",
      `cannot choose ${count} of ${candidates.length} datanodes to lose`,
    );
  }
  const readable = file.blocks.filter((b) => b.state === "stored" && b.alive);
  const pick = Array.from({ length: count }, (_, i) => i);
  do {
    const lost = new Set(pick.map((i) => candidates[i]!));
    const roles = readable.filter((b) => !lost.has(b.node))
      .map((b) => ({ kind: b.kind, index: b.index }));
    const verdict = await catalog.decodable(file.code, roles);
    if (verdict.decodable === null) {
      throw new CdfsError("UNAVAILABLE", `${file.name}: ${verdict.note}`);
    }
    if (verdict.decodable) return [...lost];
  } while (nextSubset(pick, candidates.length));
  throw new CdfsError(
    "SINGULAR",
    `${file.name}: no ${count} of these datanodes can be lost with the file still readable`,
  );
}

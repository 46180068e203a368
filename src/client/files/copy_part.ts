/**
 * Re-replicating a part: a one-step coding program, sent inline, that the target datanode
 * runs to pull the part from a datanode holding a copy and write its own. The bytes go from
 * datanode to datanode, never through the client, and the copy becomes visible only when the
 * run commits (as every block a coding run writes), so a failed copy leaves nothing behind.
 *
 * @module
 */
import { partBlock, program, readBlock, writeBlock } from "../../coding/lang/helpers.ts";
import type { CommittedBlock } from "../../protocol/responses.ts";
import { expandBlockName } from "../../coding/lang/validate.ts";
import { CdfsError } from "../../core/errors.ts";
import { codingRequest, freeProgramName, newRunId, ProgramRuns } from "../objects/program_runs.ts";
import type { ProgressCallback } from "../objects/progress.ts";
import type { ObjectTarget } from "../objects/target.ts";

/**
 * Options of {@linkcode copyPart}.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import type { CopyPartOptions } from "./copy_part.ts";
 * const options: CopyPartOptions = { module, nodes, objectId: "f7", part: 0, from: 5, to: 0 };
 * ```
 */
export interface CopyPartOptions extends ObjectTarget {
  /** The part index. */
  readonly part: number;
  /** The logical node that holds a copy. */
  readonly from: number;
  /** The logical node that is to get one. */
  readonly to: number;
  /** The run's chunk size (default 1 MiB). */
  readonly chunkSize?: number;
  /** Bytes copied, out of the part's length. */
  readonly onProgress?: ProgressCallback;
}

/**
 * Copies part `part` from logical node `from` to logical node `to`, node to node.
 *
 * @example
 * Not run by `deno test --doc`: it needs a namenode and its datanodes.
 * ```ts ignore
 * import { copyPart } from "./copy_part.ts";
 * const copy = await copyPart({ module, nodes, objectId: "f7", part: 0, from: 5, to: 0 });
 * console.log(copy.block, copy.digest);
 * ```
 *
 * @param options Module, nodes, object, part, source and target, chunk size.
 * @returns The block the target committed.
 * @throws {CdfsError} The run's errors, naming the node (`EXISTS` when the target has it).
 */
export async function copyPart(options: CopyPartOptions): Promise<CommittedBlock> {
  const { module, part, from, to } = options;
  if (from === to) {
    throw new CdfsError("INTERNAL", `part ${part}: copy from node ${from} to itself`);
  }
  const name = freeProgramName(module, "copy_part", 0);
  const copy = program(
    to,
    [readBlock("source", partBlock(part), from), writeBlock("copy", partBlock(part))],
    [["LOAD", "b", "source"], ["WRITE", "b", "copy"]],
  );
  const runs = new ProgramRuns(options.client);
  let total = 0;
  const run = runs.start(
    options.nodes[to]!,
    codingRequest(options, {
      program: name,
      run: newRunId(),
      chunkSize: options.chunkSize,
      overwrite: false,
      inline: { [name]: copy },
    }),
    {
      onResponse: (response) => void (total = response.length),
      onProgress: (bytes) => options.onProgress?.(bytes, total),
    },
  );
  await runs.settle();
  const { committed, length } = await run;
  options.onProgress?.(length, length);
  const block = expandBlockName(partBlock(part), options.objectId);
  const written = committed.find((b) => b.block === block);
  if (written === undefined) {
    throw new CdfsError("INTERNAL", `the copy of ${block} committed no block '${block}'`);
  }
  return written;
}

/**
 * {@linkcode nodesOfFile}: the datanode of each logical node of a file's layout, from the
 * blocks a namenode's GET_FILE names.
 *
 * @module
 */
import { CdfsError } from "../core/errors.ts";
import { type CodeLayout, resolveLayout } from "./layout.ts";
import type { FileView, NodeRef } from "./responses.ts";

/**
 * The datanode of each logical node of `layout` for a file, from its blocks (see
 * `resolveLayout`): what a client passes as the `nodes` of a CODING run. A datanode that is
 * several logical nodes (a repair doubled blocks up on it) is at each of their indexes.
 *
 * @example
 * Not run by `deno test --doc`: it needs a running namenode.
 * ```ts ignore
 * const nodes = nodesOfFile(await client.getFile("a.bin"), layoutOfModule(rapidraid));
 * ```
 *
 * @param file The file.
 * @param layout The layout of its code.
 * @returns Id and address of each logical node's datanode, or null.
 * @throws {CdfsError} `CONFLICT` when the blocks do not follow the layout.
 */
export function nodesOfFile(file: FileView, layout: CodeLayout): (NodeRef | null)[] {
  const ids = resolveLayout(
    layout,
    file.blocks.map((b) => ({ role: { kind: b.kind, index: b.index }, node: b.node })),
    file.name,
  );
  const addresses = new Map(file.blocks.map((b) => [b.node, b.address]));
  return ids.map((id) => {
    if (id === null) return null;
    const address = addresses.get(id);
    if (address === null || address === undefined) {
      throw new CdfsError("NOT_FOUND", `datanode ${id} of file ${file.name} has no address`);
    }
    return { node: id, address };
  });
}

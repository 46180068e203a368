/**
 * What the object operations (objects.ts, object_state.ts, object_decode.ts,
 * object_archive.ts) share: the runs of coding programs committed together
 * ({@linkcode ProgramRuns}), checks of the node list and the manifest, bounded concurrency,
 * progress sums and local file helpers. The public names among them ({@linkcode newRunId},
 * {@linkcode moduleNodeCount}, {@linkcode ProgressCallback}) are re-exported by objects.ts;
 * the rest is for those modules only.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { CodingModule } from "../coding/lang/program.ts";
import { CdfsError, type ErrorCode, isCdfsError } from "../core/errors.ts";
import type { CodingRequest, StatResponse } from "../protocol/messages.ts";
import {
  type CodingResult,
  DataNodeClient,
  type DataNodeClientOptions,
  withStallTimeout,
} from "./datanode_client.ts";
import {
  manifestBlockId,
  MAX_MANIFEST_BYTES,
  type ObjectManifest,
  partLengthOf,
} from "./manifest.ts";
import type { ObjectTarget } from "./objects.ts";

/**
 * The default chunk size of the stores and of the coding runs, 1 MiB.
 */
export const DEFAULT_CHUNK_SIZE = 1 << 20;

/**
 * How many STOREs (or other requests) run at once: each STORE holds client buffers from a pool
 * of 32 shared by the process, so this stays well below that.
 */
export const MAX_CONCURRENT_STORES = 12;

/**
 * The buffer of local file reads (hashing, copying), 1 MiB.
 */
export const FILE_BUFFER_SIZE = 1 << 20;

/**
 * Reports the bytes done out of a total; called often, so it should only record or redraw.
 *
 * @example
 * ```ts
 * import type { ProgressCallback } from "./objects.ts";
 * const log: ProgressCallback = (done, total) => void [done, total];
 * ```
 */
export type ProgressCallback = (done: number, total: number) => void;

/**
 * A fresh run id: 16 random bytes as 32 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { newRunId } from "./objects.ts";
 * console.log(/^[0-9a-f]{32}$/.test(newRunId())); // true
 * ```
 *
 * @returns The run id.
 */
export function newRunId(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/**
 * The number of logical nodes a module uses: one more than the highest node index of its
 * parts, coded blocks and programs (n for every built-in module).
 *
 * @example
 * ```ts
 * import { moduleNodeCount } from "./objects.ts";
 * import { codingModule } from "../../coding/rapidraid.ts";
 * console.log(moduleNodeCount(codingModule)); // 16
 * ```
 *
 * @param module The coding module.
 * @returns How many addresses its node list must have.
 */
export function moduleNodeCount(module: CodingModule): number {
  let highest = -1;
  for (const part of module.parts) highest = Math.max(highest, ...part.nodes);
  for (const coded of module.coded) highest = Math.max(highest, coded.node);
  for (const program of Object.values(module.programs)) highest = Math.max(highest, program.node);
  return highest + 1;
}

// ---------------------------------------------------------------------------------------------
// Programs under way

/**
 * The CODING request of one program of an object's run: what every program of every
 * operation shares (module, object, node list, chunk size) comes from the target, the rest
 * from `fields`. Every run an object operation starts is built here.
 *
 * @example
 * ```ts
 * import { codingRequest } from "./object_common.ts";
 * import { codingModule } from "../../coding/replication.ts";
 * const target = { module: codingModule, nodes: ["h:1", "h:2", "h:3"], objectId: "photo" };
 * const request = codingRequest(target, { program: "copy1", run: "0".repeat(32) });
 * console.log(request.chunkSize, request.nodes.length); // 1048576 3
 * ```
 *
 * @param target Module, nodes, object.
 * @param fields The program, the run, and any other field (chunk size default 1 MiB).
 * @returns The request.
 */
export function codingRequest(
  target: ObjectTarget,
  fields:
    & Omit<CodingRequest, "op" | "module" | "object" | "nodes" | "chunkSize">
    & { readonly chunkSize?: number | undefined },
): CodingRequest {
  return {
    op: "CODING",
    module: target.module.name,
    object: target.objectId,
    nodes: [...target.nodes],
    ...(target.timeoutMs === undefined ? {} : { timeoutMs: target.timeoutMs }),
    ...fields,
    chunkSize: fields.chunkSize ?? DEFAULT_CHUNK_SIZE,
  };
}

/**
 * What a program started by {@linkcode ProgramRuns.start} reports.
 *
 * @example
 * ```ts
 * import type { ProgramHandlers } from "./object_common.ts";
 * let length = 0;
 * const handlers: ProgramHandlers = { onResponse: (r) => void (length = r.length) };
 * ```
 */
export interface ProgramHandlers {
  /** The start reply: the run's stream length L, and whether the program streams. */
  onResponse?: (response: { length: number; stream: boolean }) => void;
  /** A stream program's DATA (the view is valid until the promise settles). */
  onData?: (bytes: Uint8Array, length: number) => void | Promise<void>;
  /** A local program's progress, bytes of its stream. */
  onProgress?: (bytesDone: number) => void;
  /** Called inside the task when the program is prepared, with L: may throw to fail the run. */
  onEnd?: (length: number) => void;
}

/**
 * The programs of one run, each on its own connection, committed together: a program that is
 * prepared (finished, its blocks written but not visible) waits until every program of the
 * run is, so that nothing becomes visible unless all of them succeeded. All programs must be
 * started before the event loop turns (in one synchronous loop), as the barrier counts them.
 *
 * The first failure (of a program or of the caller's handling) closes every connection, which
 * aborts the others on the nodes, and is the error {@linkcode ProgramRuns.settle} throws (the
 * later ones are mostly its consequences; {@linkcode ProgramRuns.errors} keeps them all,
 * because the one that names the cause, e.g. a corrupt block, may not arrive first).
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { ProgramRuns } from "./object_common.ts";
 * const runs = new ProgramRuns(undefined);
 * const result = runs.start("127.0.0.1:13115", request, {});
 * await runs.settle();
 * console.log((await result).committed);
 * ```
 */
export class ProgramRuns {
  readonly #client: DataNodeClientOptions | undefined;
  readonly #clients = new Set<DataNodeClient>();
  readonly #tasks: Promise<unknown>[] = [];
  readonly #allPrepared: Promise<void>;
  readonly #errors: unknown[] = [];
  #resolvePrepared: () => void = () => {};
  #rejectPrepared: (error: unknown) => void = () => {};
  #prepared = 0;
  #failed = false;
  #error: unknown;

  /**
   * No runs yet.
   *
   * @param client The connections' timeouts.
   */
  constructor(client: DataNodeClientOptions | undefined) {
    this.#client = client;
    this.#allPrepared = new Promise<void>((resolve, reject) => {
      this.#resolvePrepared = resolve;
      this.#rejectPrepared = reject;
    });
    this.#allPrepared.catch(() => {}); // observed by every onPrepared; never "unhandled"
  }

  /** Every error of the run, the first (the one {@linkcode settle} throws) first. */
  get errors(): readonly unknown[] {
    return this.#errors;
  }

  /**
   * Starts one program on a node.
   *
   * @param address The node.
   * @param request The CODING request.
   * @param handlers What to do with its replies.
   * @returns Its result once the run committed.
   */
  start(address: string, request: CodingRequest, handlers: ProgramHandlers): Promise<CodingResult> {
    const task = (async () => {
      // A node frozen before it answers costs the run's stall timeout, not the connect one.
      const options = withStallTimeout(this.#client ?? {}, request.timeoutMs);
      const client = await DataNodeClient.connect(address, options);
      this.#clients.add(client);
      try {
        if (this.#failed) throw this.#error;
        let length = -1;
        return await client.coding(request, {
          onResponse: (response) => {
            length = response.length;
            handlers.onResponse?.(response);
          },
          ...(handlers.onData === undefined ? {} : { onData: handlers.onData }),
          ...(handlers.onProgress === undefined ? {} : { onProgress: handlers.onProgress }),
          onPrepared: async () => {
            handlers.onEnd?.(length);
            if (++this.#prepared === this.#tasks.length) this.#resolvePrepared();
            await this.#allPrepared;
          },
        });
      } finally {
        this.#clients.delete(client);
        client.close();
      }
    })();
    this.#tasks.push(task.catch((error) => this.fail(error)));
    return task;
  }

  /**
   * Fails the run (the first call decides the error): every connection is closed.
   *
   * @param error Why.
   */
  fail(error: unknown): void {
    if (this.#errors.length < 64) this.#errors.push(error);
    if (this.#failed) return;
    this.#failed = true;
    this.#error = error;
    this.#rejectPrepared(error);
    for (const client of this.#clients) client.close();
  }

  /**
   * Waits for every program to end.
   *
   * @throws The run's first error.
   */
  async settle(): Promise<void> {
    await Promise.allSettled(this.#tasks);
    if (this.#failed) throw this.#error;
  }
}

// ---------------------------------------------------------------------------------------------
// Checks

/**
 * Checks an object id and that the node list has as many nodes as the module uses.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { checkTarget } from "./object_common.ts";
 * checkTarget({ module, nodes, objectId: "movie" });
 * ```
 *
 * @param target Module, nodes, object.
 * @throws {CdfsError} BAD_REQUEST.
 */
export function checkTarget(target: ObjectTarget): void {
  const { module, nodes, objectId } = target;
  manifestBlockId(objectId);
  const needed = moduleNodeCount(module);
  if (nodes.length !== needed) {
    throw new CdfsError("BAD_REQUEST", `${module.name} needs ${needed} nodes, got ${nodes.length}`);
  }
}

/**
 * Checks that a manifest is of this module and that its recorded coded block locations are
 * nodes of a list of `nodeCount`.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { checkManifest } from "./object_common.ts";
 * checkManifest(module, manifest, "movie", nodes.length);
 * ```
 *
 * @param module The coding module.
 * @param manifest The object's manifest.
 * @param objectId The object id, for messages.
 * @param nodeCount The node list's length.
 * @throws {CdfsError} BAD_REQUEST for another module; CORRUPT for lengths or locations that do
 * not fit.
 */
export function checkManifest(
  module: CodingModule,
  manifest: ObjectManifest,
  objectId: string,
  nodeCount: number,
): void {
  if (manifest.module !== module.name || manifest.k !== module.k || manifest.n !== module.n) {
    throw new CdfsError(
      "BAD_REQUEST",
      `object '${objectId}' was put with ${manifest.module} (n = ${manifest.n}, k = ` +
        `${manifest.k}), not ${module.name} (n = ${module.n}, k = ${module.k})`,
    );
  }
  if (manifest.partLength !== partLengthOf(manifest.objectLength, module.k, module.field)) {
    throw new CdfsError(
      "CORRUPT",
      `object '${objectId}': the manifest's partLength ${manifest.partLength} does not match ` +
        `objectLength ${manifest.objectLength} in ${module.name}`,
    );
  }
  const stray = manifest.coded?.findIndex((c) => c.node >= nodeCount) ?? -1;
  if (stray >= 0) {
    throw new CdfsError(
      "CORRUPT",
      `object '${objectId}': the manifest puts coded block ${stray} on node ` +
        `${manifest.coded![stray]!.node}, the node list has nodes 0..${nodeCount - 1}`,
    );
  }
}

/**
 * A program name not used by the module (nor, with aux programs, `<name>_part<j>`).
 *
 * @example
 * ```ts
 * import { freeProgramName } from "./object_common.ts";
 * import { codingModule } from "../../coding/rs.ts";
 * console.log(freeProgramName(codingModule, "decode", 11)); // "decode"
 * ```
 *
 * @param module The coding module.
 * @param base The name wanted.
 * @param auxCount How many aux programs `<name>_part<j>` go with it.
 * @returns `base`, or `base1`, `base2`... if taken.
 */
export function freeProgramName(module: CodingModule, base: string, auxCount: number): string {
  const taken = (name: string) =>
    Object.hasOwn(module.programs, name) ||
    Array.from({ length: auxCount }, (_, j) => `${name}_part${j}`).some((aux) =>
      Object.hasOwn(module.programs, aux)
    );
  let name = base;
  for (let i = 1; taken(name); i++) name = `${base}${i}`;
  return name;
}

// ---------------------------------------------------------------------------------------------
// Concurrency and progress

/**
 * Runs tasks with at most `limit` at a time; after a failure starts no more, then throws it.
 *
 * @example
 * ```ts
 * import { runLimited } from "./object_common.ts";
 * const squares = await runLimited([1, 2, 3].map((x) => () => Promise.resolve(x * x)), 2);
 * console.log(squares); // [1, 4, 9]
 * ```
 *
 * @param tasks The tasks.
 * @param limit How many at once.
 * @returns Their results, in order.
 */
export async function runLimited<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < tasks.length) {
      const i = next++;
      try {
        results[i] = await tasks[i]!();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}

/**
 * Sums the progress of several transfers, each reporting its own running total.
 *
 * @example
 * ```ts
 * import { progressSum } from "./object_common.ts";
 * const sum = progressSum(20, (done, total) => console.log(done, total));
 * const a = sum.counter(), b = sum.counter();
 * a(5); b(10); a(10); // 5 20, 15 20, 20 20
 * ```
 *
 * @param total The bytes of all transfers.
 * @param onProgress Where the sum goes.
 * @returns A counter per transfer, and the sum so far.
 */
export function progressSum(
  total: number,
  onProgress: ProgressCallback | undefined,
): { counter(): (bytes: number) => void; done(): number } {
  let sum = 0;
  return {
    counter() {
      let mine = 0;
      return (bytes) => {
        sum += bytes - mine;
        mine = bytes;
        onProgress?.(sum, total);
      };
    },
    done: () => sum,
  };
}

// ---------------------------------------------------------------------------------------------
// Nodes

/**
 * Retrieves a small block (a manifest) into memory.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { retrieveSmall } from "./object_common.ts";
 * const bytes = await retrieveSmall(client, "movie.manifest");
 * ```
 *
 * @param client A connection.
 * @param block The block id.
 * @returns Its bytes.
 * @throws {CdfsError} CORRUPT when it is larger than {@linkcode MAX_MANIFEST_BYTES}; the
 * retrieve's errors.
 */
export async function retrieveSmall(client: DataNodeClient, block: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  await client.retrieve(block, (chunk) => {
    size += chunk.length;
    if (size > MAX_MANIFEST_BYTES) {
      throw new CdfsError("CORRUPT", `block '${block}' is larger than ${MAX_MANIFEST_BYTES} bytes`);
    }
    chunks.push(chunk.slice());
  });
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/**
 * Deletes blocks, best effort (a failure is ignored): cleanup after a failed operation.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { deleteQuietly } from "./object_common.ts";
 * await deleteQuietly(nodes, [{ block: "movie.part0", node: 0 }], undefined);
 * ```
 *
 * @param nodes The node list.
 * @param blocks The blocks and their logical nodes.
 * @param client Client timeouts.
 */
export async function deleteQuietly(
  nodes: readonly string[],
  blocks: readonly { block: string; node: number }[],
  client: DataNodeClientOptions | undefined,
): Promise<void> {
  await Promise.allSettled(blocks.map(async ({ block, node }) => {
    using connection = await DataNodeClient.connect(nodes[node]!, client);
    await connection.delete(block);
  }));
}

/**
 * One coded block to confirm with a STAT where a record places it (or, with `failure`, one
 * already known not to be confirmable).
 *
 * @example
 * ```ts
 * import type { StatCheck } from "./object_common.ts";
 * const check: StatCheck = {
 *   index: 3,
 *   block: "movie.coded3",
 *   address: "127.0.0.1:13103",
 *   where: "coded block 3 (movie.coded3) on node 3 (127.0.0.1:13103)",
 *   mismatch: (stat) => stat.length === 4096 ? undefined : `length ${stat.length}, not 4096`,
 * };
 * ```
 */
export interface StatCheck {
  /** The coded block's index (failures are listed in its order). */
  readonly index: number;
  /** Its block id. */
  readonly block: string;
  /** The address of the node the record places it on. */
  readonly address: string;
  /** How a failure names it: block, node and address. */
  readonly where: string;
  /** What is wrong with the block's STAT (CORRUPT), or undefined when it is as recorded. */
  mismatch(stat: StatResponse): string | undefined;
}

/**
 * A coded block known not to be confirmable before any STAT (no record, no address).
 *
 * @example
 * ```ts
 * import type { StatRefusal } from "./object_common.ts";
 * const r: StatRefusal = { index: 3, code: "NOT_FOUND", text: "coded block 3 is not recorded" };
 * ```
 */
export interface StatRefusal {
  /** The coded block's index. */
  readonly index: number;
  /** The code of the failure. */
  readonly code: ErrorCode;
  /** What the failure says. */
  readonly text: string;
}

/**
 * Confirms coded blocks before their part replicas are dropped: STATs each one where its
 * record places it (several at once) and checks it against the record. Confirms all or throws.
 *
 * @example
 * Not run by `deno test --doc`: it needs running datanodes.
 * ```ts ignore
 * import { confirmByStat } from "./object_common.ts";
 * const refusal = "object 'movie': its part replicas are kept";
 * const confirmed = await confirmByStat(checks, undefined, refusal);
 * ```
 *
 * @param checks One check (or refusal) per coded block of the code.
 * @param client Client timeouts.
 * @param refusal What the error says before the list of blocks not confirmed.
 * @returns Each check with the STAT that confirmed it, in order.
 * @throws {CdfsError} Naming every block not confirmed (missing, another length or digest, its
 * node unreachable), with the code of the first.
 */
export async function confirmByStat<C extends StatCheck>(
  checks: readonly (C | StatRefusal)[],
  client: DataNodeClientOptions | undefined,
  refusal: string,
): Promise<{ check: C; stat: StatResponse }[]> {
  const failures: StatRefusal[] = [];
  const confirmed = await runLimited(
    checks.map((check) => async (): Promise<{ check: C; stat: StatResponse } | undefined> => {
      const fail = (code: ErrorCode, text: string) =>
        void failures.push({ index: check.index, code, text });
      if (!("where" in check)) return void failures.push(check);
      try {
        using connection = await DataNodeClient.connect(check.address, client);
        const stat = await connection.stat(check.block);
        const mismatch = check.mismatch(stat);
        if (mismatch === undefined) return { check, stat };
        fail("CORRUPT", `${check.where}: ${mismatch}`);
      } catch (error) {
        fail(
          isCdfsError(error) ? error.code : "UNAVAILABLE",
          `${check.where}: ${errorMessage(error)}`,
        );
      }
      return undefined;
    }),
    MAX_CONCURRENT_STORES,
  );
  if (failures.length > 0) {
    failures.sort((a, b) => a.index - b.index);
    throw new CdfsError(
      failures[0]!.code,
      `${refusal}: ${failures.length} of its ${checks.length} coded blocks not confirmed: ` +
        failures.map((f) => f.text).join("; "),
    );
  }
  return confirmed.filter((c) => c !== undefined);
}

/**
 * An error's message (or the value as text).
 *
 * @example
 * ```ts
 * import { errorMessage } from "./object_common.ts";
 * console.log(errorMessage(new Error("gone"))); // "gone"
 * ```
 *
 * @param error Anything thrown.
 * @returns Its message.
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// Local files

/**
 * The SHA-256 of a file, streamed.
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { hashFile } from "./object_common.ts";
 * console.log(await hashFile("movie.mkv"));
 * ```
 *
 * @param path The file.
 * @returns 64 lowercase hex digits.
 * @throws {CdfsError} NOT_FOUND or UNAVAILABLE naming the file.
 */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await openFile(path);
  const buffer = new Uint8Array(FILE_BUFFER_SIZE);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) return hash.digest("hex");
    hash.update(buffer.subarray(0, n));
  }
}

/**
 * Stats a regular file.
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { statFile } from "./object_common.ts";
 * console.log((await statFile("movie.mkv")).size);
 * ```
 *
 * @param path The file.
 * @returns Its info.
 * @throws {CdfsError} NOT_FOUND, UNAVAILABLE, BAD_REQUEST (not a regular file), naming it.
 */
export async function statFile(path: string): Promise<Deno.FileInfo> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw localError(error, path, "read");
  }
  if (!info.isFile) throw new CdfsError("BAD_REQUEST", `${path} is not a regular file`);
  return info;
}

/**
 * Opens a file for reading.
 *
 * @example
 * Not run by `deno test --doc`: it reads or writes files named in the example.
 * ```ts ignore
 * import { openFile } from "./object_common.ts";
 * using file = await openFile("movie.mkv");
 * ```
 *
 * @param path The file.
 * @returns It, open.
 * @throws {CdfsError} NOT_FOUND or UNAVAILABLE naming the file.
 */
export async function openFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (error) {
    throw localError(error, path, "read");
  }
}

/**
 * A failure on a local file, as a CdfsError that says which file.
 *
 * @example
 * ```ts
 * import { localError } from "./object_common.ts";
 * const e = localError(new Deno.errors.NotFound("No such file"), "a.bin", "read");
 * console.log(e.code, e.message); // NOT_FOUND cannot read a.bin: No such file
 * ```
 *
 * @param error What the file system threw.
 * @param path The file.
 * @param verb What was done ("read", "create", "write").
 * @returns The error to throw.
 */
export function localError(error: unknown, path: string, verb: string): CdfsError {
  if (error instanceof CdfsError) return error;
  const reason = error instanceof Error ? error.message.replace(/ \(os error \d+\).*$/, "") : "";
  const code = error instanceof Deno.errors.NotFound ? "NOT_FOUND" : "UNAVAILABLE";
  return new CdfsError(code, `cannot ${verb} ${path}: ${reason}`, { cause: error });
}

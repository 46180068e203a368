/**
 * The runs of coding programs an object operation starts: their CODING requests
 * ({@linkcode codingRequest}), fresh run ids and program names, and {@linkcode ProgramRuns},
 * the programs of one run committed together.
 *
 * @module
 */
import type { CodingModule } from "../../coding/lang/program.ts";
import { randomHex } from "../../core/random.ts";
import { type CodingResult, runCoding } from "../../coding/runtime/coding_stream.ts";
import type { CodingRequest } from "../../protocol/requests.ts";
import { DataNodeClient } from "../datanode_client.ts";
import { type DataNodeClientOptions, withStallTimeout } from "../node_connection.ts";
import type { ObjectTarget } from "./target.ts";

/**
 * The default chunk size of the stores and of the coding runs, 1 MiB.
 */
export const DEFAULT_CHUNK_SIZE = 1 << 20;

/**
 * A fresh run id: 16 random bytes as 32 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { newRunId } from "./program_runs.ts";
 * console.log(/^[0-9a-f]{32}$/.test(newRunId())); // true
 * ```
 *
 * @returns The run id.
 */
export function newRunId(): string {
  return randomHex(16);
}

/**
 * The CODING request of one program of an object's run: what every program of every
 * operation shares (module, object, node list, chunk size) comes from the target, the rest
 * from `fields`. Every run an object operation starts is built here.
 *
 * @example
 * ```ts
 * import { codingRequest } from "./program_runs.ts";
 * import { codingModule } from "../../../coding/replication.ts";
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
 * import type { ProgramHandlers } from "./program_runs.ts";
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
 * import { ProgramRuns } from "./program_runs.ts";
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
        return await runCoding(client, request, {
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

/**
 * A program name not used by the module (nor, with aux programs, `<name>_part<j>`).
 *
 * @example
 * ```ts
 * import { freeProgramName } from "./program_runs.ts";
 * import { codingModule } from "../../../coding/rs.ts";
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

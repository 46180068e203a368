/**
 * CODING: runs one program of a coding module for one object and one run (docs/protocol.md,
 * CODING). The program's inputs are pulled by a {@linkcode NetworkStreamResolver} (local
 * blocks, other nodes' blocks, other programs of the run on other nodes), the interpreter
 * computes step by step in the node's pool buffers, outputs go to block store writers, and a
 * stream program's output is sent to the client as DATA frames (one step per frame, one frame
 * in flight while the next step is computed).
 *
 * The exchange: RESPONSE `{program, length, stream}` as soon as the inputs are open; DATA...
 * END (stream program) or RESPONSE `{progress}` at most ten times a second (local program);
 * RESPONSE `{prepared: true}` once the program and every program it pulled have finished
 * (blocks written, not visible); the client's REQUEST `{op: "COMMIT", run}`; then the blocks
 * are committed here and the commit is forwarded upstream; RESPONSE `{committed: [...]}`.
 * Anything else (an ERROR, the connection closing, a timeout) aborts: nothing of the run
 * becomes visible on this node, and the upstream connections are closed, which aborts the
 * upstream nodes in turn.
 *
 * Errors name the node where they happened (`node 7 (127.0.0.1:13107): ...`): an error of
 * another node (an upstream ERROR, or a connection to it that broke) already names it and is
 * passed on unchanged, so the client learns which node failed.
 *
 * A stalled node is named by the rule of docs/protocol.md (CODING, blame on a stall): this
 * node sends `{progress}` keepalives to whoever sent the request from its arrival to the last
 * reply (except while it waits for the decision), so that only the neighbours of a stalled node
 * time out; every connection of the run uses the request's `timeoutMs` when it is shorter than
 * the node's own timeouts; and a failing node sends its ERROR before it cleans up.
 *
 * @module
 */
import { createChecksummer } from "../../checksum/checksum.ts";
import type { DataNodeClientOptions } from "../../client/datanode_client.ts";
import { Executor, type ProgramRun, type RunContext } from "../../coding/runtime/interpreter.ts";
import { listCodingModules, loadCodingModule } from "../../coding/lang/loader.ts";
import type { CodingModule, Program } from "../../coding/lang/program.ts";
import { RunRegistry } from "../../coding/runtime/queues.ts";
import { validateProgram } from "../../coding/lang/validate.ts";
import { CdfsError } from "../../core/errors.ts";
import { PeerError } from "../../protocol/connection.ts";
import { type EndTrailer, FRAME_TYPE } from "../../protocol/frame.ts";
import { ProgressWriter } from "../../protocol/progress_writer.ts";
import type { CodingPushStream } from "../../coding/runtime/push_stream.ts";
import { checkPushChain } from "../../coding/runtime/push_chain.ts";
import {
  type CodingRequest,
  type CodingStartResponse,
  parseCodingCommit,
} from "../../protocol/messages.ts";
import { namedCause, NetworkStreamResolver } from "../../coding/runtime/resolver.ts";
import { type OpContext, type OpHandler, parseRequestAs } from "../op.ts";
import type { TrafficCounters } from "../traffic.ts";

/**
 * What the CODING operation of a node works with.
 *
 * @example
 * ```ts
 * import { RunRegistry } from "../../coding/runtime/queues.ts";
 * import type { CodingServices } from "./coding.ts";
 * const services: CodingServices = { runs: new RunRegistry(), client: { frameTimeoutMs: 5000 } };
 * ```
 */
export interface CodingServices {
  /**
   * The modules the node serves, by name (`cdfs datanode serve --coding`). Default: every
   * built-in module, loaded on the first CODING request.
   */
  readonly modules?: ReadonlyMap<string, CodingModule>;
  /** The node's runs (PUSH/POP queues and lengths), shared by all its connections. */
  readonly runs: RunRegistry;
  /** Timeouts of the connections to other nodes (default: the protocol's). */
  readonly client?: DataNodeClientOptions;
  /** The node's traffic counters: connections to other nodes count as the run's (upstream). */
  readonly traffic?: TrafficCounters;
}

/**
 * Makes the CODING handler of a node.
 *
 * @example
 * ```ts
 * import { RunRegistry } from "../../coding/runtime/queues.ts";
 * import { createCodingOp } from "./coding.ts";
 * const handler = createCodingOp({ runs: new RunRegistry() });
 * console.log(handler.op); // "CODING"
 * ```
 *
 * @param services The modules served, the run registry, connection timeouts.
 * @returns The handler.
 */
export function createCodingOp(services: CodingServices): OpHandler {
  let modules: Promise<ReadonlyMap<string, CodingModule>> | undefined;
  const catalog = (): Promise<ReadonlyMap<string, CodingModule>> => {
    if (services.modules !== undefined) return Promise.resolve(services.modules);
    modules ??= loadServedModules();
    modules.catch(() => modules = undefined); // try again on the next request
    return modules;
  };
  const executors = new WeakMap<CodingModule, Map<string, Executor>>();
  return {
    op: "CODING",
    clientStreams: false,
    async run(ctx, raw) {
      const request = parseRequestAs("CODING", raw);
      ctx.block = request.object;
      // A producer's stream follows its push-mode request: after any error, even one in the
      // request, the connection cannot find the next request.
      if (request.push?.length !== undefined) ctx.streaming = true;
      const served = await catalog();
      const module = served.get(request.module);
      if (module === undefined) {
        throw new CdfsError(
          "BAD_REQUEST",
          `coding module '${request.module}' is not served here (served: ${
            [...served.keys()].join(", ") || "none"
          })`,
        );
      }
      const { executor, programs } = executorFor(module, request, executors);
      await serve(ctx, services, request, executor, programs);
    },
  };
}

/**
 * The CODING handler of the standard op table: every built-in module (loaded on first use)
 * and a run registry of its own. A server replaces it with one made for its options
 * (`DataNodeServerOptions.coding`).
 */
export const codingOp: OpHandler = createCodingOp({ runs: new RunRegistry() });

/**
 * Loads the modules a node serves: the built-in ones and those of `codingDirs` (a user module
 * hides a built-in one of the same name), all of them or only `names`.
 *
 * @example
 * ```ts
 * import { loadServedModules } from "./coding.ts";
 * const modules = await loadServedModules({ names: ["rapidraid", "rs"] });
 * console.log([...modules.keys()]); // ["rapidraid", "rs"]
 * ```
 *
 * @param options The module names (default: all found) and user directories.
 * @returns The modules by name.
 * @throws {CdfsError} `NOT_FOUND` for a name no directory has (or a missing directory),
 * `BAD_REQUEST` for a module that does not load or validate.
 */
export async function loadServedModules(
  options: { names?: readonly string[]; codingDirs?: readonly string[] } = {},
): Promise<Map<string, CodingModule>> {
  const search = options.codingDirs === undefined ? {} : { codingDirs: options.codingDirs };
  // Every module found must load: a broken one is an error at start-up, not a surprise later.
  const names = options.names ?? (await listCodingModules(search)).map((listing) => listing.name);
  const modules = new Map<string, CodingModule>();
  for (const name of names) modules.set(name, await loadCodingModule(name, search));
  return modules;
}

/** Finds (or validates, for inline programs) the program and compiles it. */
function executorFor(
  module: CodingModule,
  request: CodingRequest,
  cache: WeakMap<CodingModule, Map<string, Executor>>,
): { executor: Executor; programs: Readonly<Record<string, Program>> } {
  const name = request.program;
  if (request.inline === undefined) {
    let executors = cache.get(module);
    if (executors === undefined) cache.set(module, executors = new Map());
    let executor = executors.get(name);
    if (executor === undefined) {
      if (!Object.hasOwn(module.programs, name)) {
        throw new CdfsError(
          "BAD_REQUEST",
          `coding module '${module.name}' has no program '${name}'`,
        );
      }
      executor = new Executor(module, name);
      executors.set(name, executor);
    }
    checkNodes(module, name, executor.program, request);
    return { executor, programs: module.programs };
  }
  // Derived programs: validated here, against the module's programs and each other.
  const raw = request.inline;
  for (const inlineName of Object.keys(raw)) {
    if (Object.hasOwn(module.programs, inlineName)) {
      throw new CdfsError(
        "BAD_REQUEST",
        `inline program '${inlineName}' has the name of a program of module '${module.name}'`,
      );
    }
  }
  const unchecked = { ...module.programs, ...raw } as Record<string, Program>;
  const programs: Record<string, Program> = { ...module.programs };
  for (const [inlineName, candidate] of Object.entries(raw)) {
    programs[inlineName] = validateProgram(module, inlineName, candidate, {
      source: "inline",
      programs: unchecked,
    });
  }
  const program = programs[name];
  if (program === undefined || !Object.hasOwn(programs, name)) {
    throw new CdfsError(
      "BAD_REQUEST",
      `coding module '${module.name}' has no program '${name}' (nor has the request inline)`,
    );
  }
  checkNodes(module, name, program, request);
  return { executor: new Executor(module, name, { program, programs }), programs };
}

function checkNodes(
  module: CodingModule,
  name: string,
  program: Program,
  request: CodingRequest,
): void {
  if (request.nodes.length !== module.n) {
    throw new CdfsError(
      "BAD_REQUEST",
      `coding module '${module.name}' runs on ${module.n} nodes, the request lists ${request.nodes.length}`,
    );
  }
  if (program.node >= request.nodes.length) {
    throw new CdfsError(
      "BAD_REQUEST",
      `program '${name}' runs on node ${program.node}, the request lists ${request.nodes.length} nodes`,
    );
  }
}

/**
 * A node's place in a push-mode chain: the program before it (whose stream arrives on the
 * request's connection) and the one after it (to whose node this node sends its output).
 */
interface PushPlace {
  readonly previous?: { readonly program: string; readonly node: number };
  readonly next?: { readonly program: string; readonly node: number };
}

/** Checks the request's push chain against the programs and finds the node's place in it. */
function pushPlace(
  request: CodingRequest,
  programs: Readonly<Record<string, Program>>,
): PushPlace | undefined {
  if (request.push === undefined) return undefined;
  const chain = request.push.chain;
  checkPushChain(programs, chain);
  const at = chain.indexOf(request.program);
  const neighbour = (name: string | undefined) => {
    if (name === undefined) return undefined;
    const node = programs[name]!.node;
    if (node >= request.nodes.length) {
      throw new CdfsError(
        "BAD_REQUEST",
        `program '${name}' runs on node ${node}, the request lists ${request.nodes.length} nodes`,
      );
    }
    return { program: name, node };
  };
  const previous = neighbour(chain[at - 1]);
  const next = neighbour(chain[at + 1]);
  return { ...(previous && { previous }), ...(next && { next }) };
}

/** Runs the program and carries out the exchange with the client. */
async function serve(
  ctx: OpContext,
  services: CodingServices,
  request: CodingRequest,
  executor: Executor,
  programs: Readonly<Record<string, Program>>,
): Promise<void> {
  // The run's stall timeout holds for the request's own connection as for those it opens;
  // the connection's own timeouts come back for the request after this one.
  let restore = ctx.conn.limitTimeouts(request.timeoutMs);
  const decision: DecisionWait = {
    begin: () => restore(),
    end: () => {
      restore = ctx.conn.limitTimeouts(request.timeoutMs);
    },
  };
  try {
    await serveRun(ctx, services, request, executor, programs, decision);
  } finally {
    restore();
  }
}

/**
 * Brackets the wait for the requester's decision. The requester may be waiting for other
 * programs of the run to be prepared (an RS encode commits its 16 programs together), which
 * is no stall of its own: that wait has the connection's own timeouts, not the run's.
 */
interface DecisionWait {
  begin(): void;
  end(): void;
}

async function serveRun(
  ctx: OpContext,
  services: CodingServices,
  request: CodingRequest,
  executor: Executor,
  programs: Readonly<Record<string, Program>>,
  decisionWait: DecisionWait,
): Promise<void> {
  const node = executor.program.node;
  const self = `node ${node} (${request.nodes[node]})`;
  const conn = ctx.conn;
  let push: PushPlace | undefined;
  try {
    push = pushPlace(request, programs);
  } catch (e) {
    throw named(e, self);
  }
  const pushedIn = push?.previous !== undefined;
  if (request.chunkSize > ctx.maxChunkSize) {
    throw named(
      new CdfsError(
        "BAD_REQUEST",
        `chunk size ${request.chunkSize} exceeds this node's buffers (${ctx.maxChunkSize} bytes)`,
      ),
      self,
    );
  }
  // A node that pushes its stream on answers its own producer (or client) like a local
  // program: progress (relayed from the chain's end), prepared, committed.
  const streamsBack = executor.isStream && push?.next === undefined;
  // Keepalives from now until the last reply (docs/protocol.md, CODING, blame on a stall):
  // while this node connects to the others and opens its inputs, whoever sent the request
  // must hear that it is alive, or it would time out on this node at the moment this node
  // times out on a stalled one, and the client could hear the wrong name.
  const writer = new ProgressWriter(conn, {
    reportProgress: !streamsBack,
    onFrameOpen: (open) => ctx.frameOpen = open,
  });
  writer.start();
  const resolver = new NetworkStreamResolver({
    store: ctx.store,
    pool: ctx.pool,
    request,
    node,
    signal: ctx.signal,
    client: services.client ?? {},
    ...(services.traffic === undefined ? {} : { traffic: services.traffic }),
    ...(push?.previous === undefined ? {} : {
      pushed: { ...push.previous, conn, length: request.push!.length! },
    }),
  });
  const context: RunContext = {
    objectId: request.object,
    runId: request.run,
    pool: ctx.pool,
    chunkSize: request.chunkSize,
    runs: services.runs,
    signal: ctx.signal,
  };
  // The next node of a push chain is connected to while the inputs open.
  if (push?.next !== undefined) resolver.connectDownstream(push.next.node);
  let run: ProgramRun;
  try {
    run = await executor.open(resolver, context);
  } catch (e) {
    writer.stop();
    resolver.shutdown();
    await writer.settled();
    throw named(e, self);
  }
  let downstream: CodingPushStream | undefined;
  try {
    if (push?.next !== undefined) {
      downstream = await resolver.openDownstream(
        push.next.program,
        push.next.node,
        run.length,
        (done) => writer.report(done),
      );
    }
    const start: CodingStartResponse = {
      program: executor.name,
      length: run.length,
      stream: streamsBack,
    };
    await writer.write(() => conn.writeJsonFrame(FRAME_TYPE.RESPONSE, start));
    // From here on the client may send its decision (or give up) at any time, and after an
    // error the connection cannot be resynchronised. (A pushed stream is read by its input:
    // nothing else may read the connection until its END.)
    ctx.streaming = true;
    if (!pushedIn) conn.prefetchHeader();
    const traffic = services.traffic;
    const stepDone = traffic === undefined ? () => {} : () => traffic.markStep(request.run);
    if (downstream !== undefined) {
      const to = downstream;
      await sendStream(ctx, run, { data: (b) => to.send(b), end: (t) => to.end(t) }, {
        writer,
        pushedIn,
        stepDone,
      });
    } else if (streamsBack) {
      await sendStream(ctx, run, {
        data: (b) => writer.write(() => conn.writeDataFrame(b)),
        end: (t) => writer.write(() => conn.writeEnd(t)),
      }, { writer, pushedIn, stepDone, onSent: () => writer.progress = ctx.bytes });
    } else {
      await runSteps(ctx, run, { writer, pushedIn, stepDone });
    }

    // Prepare: every input prepared (upstream programs finished), outputs written, and the
    // rest of a push chain prepared.
    resolver.beginCommit();
    const finishing = run.finish();
    finishing.catch(() => {}); // awaited below
    await Promise.race([
      Promise.all([resolver.inputsPrepared, downstream?.prepared()]),
      finishing,
      writer.failed,
    ]);
    await writer.write(() => conn.writeJsonFrame(FRAME_TYPE.RESPONSE, { prepared: true }));
    // The requester reads nothing more until it has decided: no keepalives meanwhile.
    writer.stop();

    // The client's decision.
    decisionWait.begin();
    const decision = await conn.readJsonFrame(FRAME_TYPE.REQUEST);
    decisionWait.end();
    if (decision === null) {
      throw new CdfsError("UNAVAILABLE", "the client closed the connection before the commit");
    }
    parseCodingCommit(decision, request.run);
    // Committing waits for the disk and for the commits of the programs this node pulled or
    // pushed to: the requester waits for the reply, so it hears keepalives again.
    writer.start();
    resolver.decide(true);
    // The commit goes on down a push chain at once, while this node commits its own blocks.
    const committing = downstream?.commit();
    committing?.catch(() => {}); // awaited below
    await finishing;
    const upstream = await resolver.upstreamCommitted();
    const below = committing === undefined ? [] : await committing;
    await writer.write(() =>
      conn.writeJsonFrame(FRAME_TYPE.RESPONSE, {
        committed: [...resolver.committed, ...upstream, ...below],
      })
    );
    writer.stop();
    await writer.settled();
    ctx.streaming = false;
  } catch (e) {
    writer.stop();
    resolver.decide(false);
    // The other nodes' connections close at once: they abort their parts of the run.
    resolver.shutdown();
    await writer.settled();
    // The client's own ERROR is not answered (the server sees it is the peer's).
    const error: CdfsError = e instanceof PeerError ? e : named(e, self);
    if (!(e instanceof PeerError)) await reportNow(ctx, error);
    await run.abort(e);
    throw error;
  }
}

/**
 * Sends a failure's ERROR at once, before the run is cleaned up: aborting may wait for the
 * next frame of a pushed stream, and a node that says nothing meanwhile would be taken for
 * stalled by the node that sent the request. Once the stream is under way the connection
 * closes after the ERROR anyway, so the connection loop is told to send nothing more (as
 * after a frame left open): it closes, lingering so that the ERROR is not lost to a reset.
 * Before the start reply the loop answers itself (the connection stays usable then).
 */
async function reportNow(ctx: OpContext, error: CdfsError): Promise<void> {
  if (!ctx.streaming || ctx.frameOpen || ctx.conn.closed) return;
  await ctx.conn.writeError(error.code, error.message).catch(() => {});
  ctx.frameOpen = true;
}

/** Where a stream program's steps go: the client's connection, or the next node's. */
interface StreamSink {
  /** Sends one step as a DATA frame; resolves to the frame's checksum. */
  data(bytes: Uint8Array): Promise<bigint>;
  /** Sends the END trailer. */
  end(trailer: EndTrailer): Promise<void>;
}

/** How the steps of a run are watched. */
interface StepWatch {
  /** The reply writer of the request's connection (its failure ends the run). */
  readonly writer: ProgressWriter;
  /** Whether a producer's stream arrives on the request's connection (push mode). */
  readonly pushedIn: boolean;
  /** Called after each step (the run's timeline). */
  readonly stepDone: () => void;
  /** Called after each step was sent. */
  readonly onSent?: () => void;
}

/**
 * Sends each step's output as a DATA frame (one in flight while the next step runs), then END.
 */
async function sendStream(
  ctx: OpContext,
  run: ProgramRun,
  sink: StreamSink,
  watch: StepWatch,
): Promise<void> {
  const digester = await createChecksummer();
  const encoded = new Uint8Array(8);
  const encodedView = new DataView(encoded.buffer);
  digester.start();
  let sending: Promise<void> | null = null;
  try {
    while (true) {
      const step = await run.step();
      if (sending !== null) {
        const previous: Promise<void> = sending;
        sending = null;
        await previous;
      }
      if (step === null) break;
      watch.stepDone();
      await checkClient(ctx, watch);
      const output = step.output!;
      const length = step.length;
      sending = sink.data(output.bytes.subarray(0, length)).then((checksum) => {
        encodedView.setBigUint64(0, checksum, false);
        digester.update(encoded);
        ctx.bytes += length;
        watch.onSent?.();
      }).finally(() => output.release());
      sending.catch(() => {}); // awaited after the next step
    }
  } finally {
    if (sending !== null) await (sending as Promise<void>).catch(() => {});
  }
  await sink.end({ length: run.length, digest: digester.finish() });
}

/** Runs a local program's steps (the writer reports the progress). */
async function runSteps(ctx: OpContext, run: ProgramRun, watch: StepWatch): Promise<void> {
  for (let step = await run.step(); step !== null; step = await run.step()) {
    watch.stepDone();
    ctx.bytes += step.length;
    watch.writer.progress = ctx.bytes;
    await checkClient(ctx, watch);
  }
}

/**
 * Between steps: a client that sent something (an ERROR) or closed has given up, and a
 * progress reply that could not be written means the same.
 */
async function checkClient(ctx: OpContext, watch: StepWatch): Promise<void> {
  watch.writer.check();
  // A pushed stream's frames are the producer's data, read by the input.
  if (watch.pushedIn || !ctx.conn.peerSentData) return;
  throw await ctx.conn.takeEarlyReply(0) ??
    new CdfsError("UNAVAILABLE", "the client closed the connection during the run");
}

/**
 * The error to send: one that names its node (along the cause chain) as it is, anything else
 * named after this node.
 */
function named(error: unknown, self: string): CdfsError {
  const origin = namedCause(error);
  if (origin !== undefined) return new CdfsError(origin.code, origin.message);
  if (error instanceof CdfsError) return new CdfsError(error.code, `${self}: ${error.message}`);
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new CdfsError("INTERNAL", `${self}: ${message}`);
}

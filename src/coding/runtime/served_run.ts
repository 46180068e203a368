/**
 * A served CODING request: runs one program of a coding module for one object and one run
 * (docs/protocol.md, CODING). The program's inputs are pulled by a {@linkcode NetworkStreamResolver} (local
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
 * Peers: every address of the request's node list must be one of the node's peers
 * ({@linkcode CodingRunServices.peers}), checked before any connection is made; a peer that
 * cannot be reached is reported as `unreachable`, its cause kept for the node's log.
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
import { CdfsError } from "../../core/errors.ts";
import type { Program } from "../lang/program.ts";
import { PeerError } from "../../protocol/peer_error.ts";
import { FRAME_TYPE } from "../../protocol/frame.ts";
import { ProgressWriter } from "../../protocol/progress_writer.ts";
import type { CodingRequest } from "../../protocol/requests.ts";
import type { CodingStartResponse } from "../../protocol/responses.ts";
import { parseCodingCommit } from "../../protocol/request_validation.ts";
import { type CodingRunServices, type CodingSession, LOOPBACK_PEERS } from "./coding_session.ts";
import type { CommittedRun } from "./committed_runs.ts";
import type { Executor } from "./interpreter.ts";
import { nameAfterNode } from "./node_errors.ts";
import type { RunContext } from "./program_run.ts";
import type { ProgramRun } from "./run_interface.ts";
import { checkPushChain } from "./push_chain.ts";
import type { CodingPushStream } from "./push_stream.ts";
import { NetworkStreamResolver } from "./resolver.ts";
import { runSteps, sendStream } from "./step_loops.ts";

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

/**
 * Runs the request's program and carries out the exchange with the requester, to the commit
 * (or the abort).
 *
 * @example
 * Not run by `deno test --doc`: a fragment of the datanode's CODING op (`ctx`, `services`).
 * ```ts ignore
 * import { RequestExecutors } from "./request_executors.ts";
 * import { serveCodingRun } from "./served_run.ts";
 * const { executor, programs } = new RequestExecutors().forRequest(module, request);
 * await serveCodingRun(ctx, services, request, executor, programs);
 * ```
 *
 * @param ctx The request being served.
 * @param services The node's run registry, connection timeouts and traffic counters.
 * @param request The validated request.
 * @param executor Its compiled program.
 * @param programs The programs its `{ program }` sources are looked up in.
 * @throws {CdfsError} The failure, named after the node where it happened (its ERROR is
 * already sent when the stream was under way).
 */
export async function serveCodingRun(
  ctx: CodingSession,
  services: CodingRunServices,
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
  // One request at a time per program of a run: one asked again waits for the first's outcome.
  // Not for a stream program: each program that reads it pulls a stream of its own, and one
  // run may have several such readers (it is never answered from memory either).
  const done = executor.isStream
    ? undefined
    : await services.committed?.claim(request.run, executor.name, ctx.signal);
  try {
    await serveRun(ctx, services, request, executor, programs, decision);
  } finally {
    restore();
    done?.();
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
  ctx: CodingSession,
  services: CodingRunServices,
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
    throw nameAfterNode(e, self);
  }
  // No connection to an address that is not a peer (docs/protocol.md, CODING, peers): the
  // whole node list is checked before anything is opened.
  try {
    await (services.peers ?? LOOPBACK_PEERS).admit(request.nodes);
  } catch (e) {
    throw nameAfterNode(e, self);
  }
  const pushedIn = push?.previous !== undefined;
  if (request.chunkSize > ctx.maxChunkSize) {
    throw nameAfterNode(
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
  // The same run id again: a client asking after a lost reply (docs/protocol.md, CODING).
  const remembered = services.committed?.get(request.run, executor.name);
  if (remembered !== undefined) {
    try {
      await replayCommitted(ctx, request, executor.name, remembered, streamsBack || pushedIn);
    } catch (e) {
      throw e instanceof PeerError ? e : nameAfterNode(e, self);
    }
    return;
  }
  // Keepalives from now until the last reply (docs/protocol.md, CODING, blame on a stall):
  // while this node connects to the others and opens its inputs, whoever sent the request
  // must hear that it is alive, or it would time out on this node at the moment this node
  // times out on a stalled one, and the client could hear the wrong name.
  const writer = new ProgressWriter(conn, {
    reportProgress: !streamsBack,
    onFrameOpen: (open) => ctx.frameOpen = open,
  });
  writer.start();
  // A run waits for a step buffer as long as any request may (--buffer-wait), then fails BUSY:
  // runs that hold buffers each other's steps need would otherwise wait for the stall timeout.
  const { bufferWaitMs } = ctx;
  const resolver = new NetworkStreamResolver({
    store: ctx.store,
    pool: ctx.pool,
    request,
    node,
    signal: ctx.signal,
    ...(bufferWaitMs === undefined ? {} : { bufferWaitMs }),
    client: services.client ?? {},
    ...(services.traffic === undefined ? {} : { traffic: services.traffic }),
    ...(services.peerFailed === undefined ? {} : { peerFailed: services.peerFailed }),
    ...(services.peerClients === undefined ? {} : { peerClients: services.peerClients }),
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
    ...(bufferWaitMs === undefined ? {} : { bufferWaitMs }),
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
    throw nameAfterNode(e, self);
  }
  let downstream: CodingPushStream | undefined;
  let ownCommitted = false;
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
    // This node's blocks are committed: whatever happens to the others', a request for this
    // program again must not run it again (it is remembered below, with its failure if any).
    ownCommitted = true;
    const upstream = await resolver.upstreamCommitted();
    const below = committing === undefined ? [] : await committing;
    const committed = [...resolver.committed, ...upstream, ...below];
    if (committed.length > 0) {
      services.committed?.remember(request.run, executor.name, {
        module: request.module,
        object: request.object,
        length: run.length,
        committed,
      });
    }
    await writer.write(() => conn.writeJsonFrame(FRAME_TYPE.RESPONSE, { committed }));
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
    const error: CdfsError = e instanceof PeerError ? e : nameAfterNode(e, self);
    if (ownCommitted && resolver.committed.length > 0) {
      services.committed?.remember(request.run, executor.name, {
        module: request.module,
        object: request.object,
        length: run.length,
        committed: [...resolver.committed],
        failure: { code: error.code, message: error.message },
      });
    }
    if (!(e instanceof PeerError)) await reportNow(ctx, error);
    await run.abort(e);
    throw error;
  }
}

/**
 * Answers a request for a program this node already committed in that run, as the first
 * request was answered — start (not a stream), prepared, and after the COMMIT the blocks
 * committed then, or the failure that followed the commit of this node's own blocks —
 * computing and writing nothing. A stream program (its stream cannot be
 * sent again) and a pushed request (a producer's second stream) are refused with `EXISTS`;
 * the run id with another object or module, with `BAD_REQUEST`.
 */
async function replayCommitted(
  ctx: CodingSession,
  request: CodingRequest,
  program: string,
  remembered: CommittedRun,
  streams: boolean,
): Promise<void> {
  const run = request.run;
  if (remembered.module !== request.module || remembered.object !== request.object) {
    throw new CdfsError(
      "BAD_REQUEST",
      `run ${run} was committed here for object '${remembered.object}' of module ` +
        `'${remembered.module}': a new run needs a new run id`,
    );
  }
  if (streams) {
    throw new CdfsError(
      "EXISTS",
      `run ${run}: program '${program}' was already committed on this node; its stream ` +
        "cannot be sent again (start a new run)",
    );
  }
  const conn = ctx.conn;
  const start: CodingStartResponse = { program, length: remembered.length, stream: false };
  await conn.writeJsonFrame(FRAME_TYPE.RESPONSE, start);
  ctx.streaming = true;
  await conn.writeJsonFrame(FRAME_TYPE.RESPONSE, { prepared: true });
  const decision = await conn.readJsonFrame(FRAME_TYPE.REQUEST);
  if (decision === null) {
    throw new CdfsError("UNAVAILABLE", "the client closed the connection before the commit");
  }
  parseCodingCommit(decision, run);
  const { failure } = remembered;
  if (failure !== undefined) throw new CdfsError(failure.code, failure.message);
  await conn.writeJsonFrame(FRAME_TYPE.RESPONSE, { committed: [...remembered.committed] });
  ctx.streaming = false;
}

/**
 * Sends a failure's ERROR at once, before the run is cleaned up: aborting may wait for the
 * next frame of a pushed stream, and a node that says nothing meanwhile would be taken for
 * stalled by the node that sent the request. Once the stream is under way the connection
 * closes after the ERROR anyway, so the connection loop is told to send nothing more (as
 * after a frame left open): it closes, lingering so that the ERROR is not lost to a reset.
 * Before the start reply the loop answers itself (the connection stays usable then).
 */
async function reportNow(ctx: CodingSession, error: CdfsError): Promise<void> {
  if (!ctx.streaming || ctx.frameOpen || ctx.conn.closed) return;
  await ctx.conn.writeError(error.code, error.message).catch(() => {});
  ctx.frameOpen = true;
}

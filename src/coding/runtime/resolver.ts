/**
 * The datanode's {@linkcode StreamResolver}: where the streams of a CODING program come from
 * and go to, on disk and over the network.
 *
 * - `{ block }` of this node: the block store's verified reader, chunk by chunk.
 * - `{ block, node }` of another node: a RETRIEVE to `nodes[node]`.
 * - `{ program }`: a CODING request for that program to `nodes[program.node]` (same module,
 *   object, run, nodes, chunk size and inline programs), whose DATA frames are its output.
 * - outputs: block store writers, committed only when the run is committed.
 *
 * Every input fills one buffer of the node's pool per step, reading one step ahead
 * (`step_input.ts`).
 *
 * Setup latency: a remote input does not wait for its node's first reply when the length is
 * already known from another input (for RapidRAID, the local part): the program starts, the
 * node answers its own client, and the reply is checked when the first step needs the data.
 * So a 16-node pipeline is set up by requests travelling down the chain, not by 16 nested
 * round trips.
 *
 * Commit: a program's blocks become visible only when the whole run is committed. After the
 * last step {@linkcode NetworkStreamResolver.beginCommit} turns the inputs' `close()` into
 * "wait for that upstream program's prepared reply"; once all are prepared the node reports
 * itself prepared; the client's decision ({@linkcode NetworkStreamResolver.decide}) then
 * commits the output blocks and is forwarded to every upstream program. Any failure before
 * that aborts everything: outputs are discarded, upstream connections closed (which makes the
 * upstream nodes abort too).
 *
 * Errors from another node name it: `node 7 (127.0.0.1:13107): <cause>`. A node that cannot be
 * connected to is `unreachable`, whatever the cause (refused, closed, no cdfs service, silent):
 * the cause goes to {@linkcode NetworkResolverOptions.peerFailed}, for the node's log. A timeout also says
 * which way this node was held up (docs/protocol.md, CODING, blame on a stall): starved (it
 * waited for that node's stream or block) or blocked (it waited for that node to take its
 * stream, or to answer). Every connection of the run uses the request's stall timeout
 * (`timeoutMs`), when it is shorter than the node's own.
 *
 * @module
 */
import type { PooledBuffer } from "../../buffer/pool.ts";
import { formatChecksum } from "../../checksum/checksum.ts";
import { DataNodeClient } from "../../client/datanode_client.ts";
import {
  type DataNodeClientOptions,
  DEFAULT_CONNECT_TIMEOUT_MS,
  withStallTimeout,
} from "../../client/node_connection.ts";
import type { NetworkResolverOptions, PushedInput } from "./resolver_options.ts";
import { openCoding, openCodingPush } from "./coding_stream.ts";
import type { CodingPushStream } from "./push_stream.ts";
import type {
  CodingInput,
  CodingOutput,
  ResolvedSource,
  StreamResolver,
} from "./stream_resolver.ts";
import { CdfsError, isCdfsError } from "../../core/errors.ts";
import { PullStream } from "../../client/pull_stream.ts";
import { parseResponse } from "../../protocol/response_validation.ts";
import type { CommittedBlock } from "../../protocol/responses.ts";
import { nameRemote } from "./node_errors.ts";
import {
  type ChunkSource,
  type InputHost,
  localChunks,
  remoteChunks,
  StepInput,
} from "./step_input.ts";

/**
 * Opens a CODING program's streams on a datanode. One resolver serves one request.
 *
 * @example
 * Not run by `deno test --doc`: a fragment of a datanode's CODING handler (`request`, `store`).
 * ```ts ignore
 * import { Executor } from "./interpreter.ts";
 * import { NetworkStreamResolver } from "./resolver.ts";
 * const resolver = new NetworkStreamResolver({ store, pool, request, node, signal, client: {} });
 * const run = await new Executor(module, request.program).open(resolver, context);
 * ```
 */
export class NetworkStreamResolver implements StreamResolver {
  /** The blocks this node committed (after {@linkcode NetworkStreamResolver.decide}). */
  readonly committed: CommittedBlock[] = [];
  /** Resolves once every input is prepared (after {@linkcode NetworkStreamResolver.beginCommit}). */
  readonly inputsPrepared: Promise<void>;

  readonly #options: NetworkResolverOptions;
  readonly #chunkSize: number;
  readonly #inputs = new Set<StepInput>();
  readonly #clients = new Set<DataNodeClient>();
  #committing = false;
  #openedInputs = 0;
  #preparedInputs = 0;
  #resolvePrepared!: () => void;
  #decision: Promise<boolean>;
  #decide!: (commit: boolean) => void;
  #decided = false;
  #upstream: Promise<CommittedBlock[]> | null = null;
  #downstream: CodingPushStream | null = null;
  #downstreamConnection: Promise<DataNodeClient> | null = null;
  /** The stream length, once any input has learnt it (others are checked against it). */
  #length: Promise<number>;
  #learnLength!: (length: number) => void;
  #closed = false;
  /** What the inputs need of the resolver. */
  readonly #host: InputHost;

  /**
   * Creates the resolver of one request.
   *
   * @param options The store, pool, request, node, signal and connection timeouts.
   */
  constructor(options: NetworkResolverOptions) {
    this.#options = options;
    this.#chunkSize = options.request.chunkSize;
    this.inputsPrepared = new Promise((resolve) => this.#resolvePrepared = resolve);
    this.#decision = new Promise((resolve) => this.#decide = resolve);
    this.#length = new Promise((resolve) => this.#learnLength = resolve);
    this.#host = {
      pool: options.pool,
      chunkSize: this.#chunkSize,
      signal: options.signal,
      ...(options.bufferWaitMs === undefined ? {} : { bufferWaitMs: options.bufferWaitMs }),
      committing: () => this.#committing,
      prepared: () => {
        this.#preparedInputs++;
        if (this.#committing && this.#preparedInputs === this.#openedInputs) {
          this.#resolvePrepared();
        }
      },
      failed: () => this.shutdown(),
    };
    if (options.signal.aborted) this.shutdown();
    else options.signal.addEventListener("abort", () => this.shutdown(), { once: true });
  }

  /**
   * Opens an input: a local block, another node's block (RETRIEVE) or another program's
   * stream (CODING). A remote input whose length another input already gave starts on trust
   * (its reply is checked before its first step).
   *
   * @param stream The stream's name in the program.
   * @param source Where it comes from.
   * @returns The input.
   * @throws {CdfsError} `NOT_FOUND` for a missing local block; a remote node's failure, named
   * after it.
   */
  async openInput(stream: string, source: ResolvedSource): Promise<CodingInput> {
    this.#checkOpen();
    const { request } = this.#options;
    let input: StepInput;
    const pushed = this.#options.pushed;
    if (source.kind === "program" && pushed?.program === source.program) {
      input = await this.#openPushed(stream, pushed);
    } else if (source.kind === "block" && source.local) {
      const reader = await this.#options.store.openReader(source.block);
      this.#learnLength(reader.length);
      input = this.#track(new StepInput(stream, localChunks(reader), reader.length, this.#host));
      input.onClose = () => reader.close();
    } else {
      const node = source.node;
      const address = request.nodes[node];
      if (address === undefined) {
        throw new CdfsError(
          "BAD_REQUEST",
          `input '${stream}' is on node ${node}, but the run lists ${request.nodes.length} nodes`,
        );
      }
      const what = source.kind === "block"
        ? `block '${source.block}'`
        : `program '${source.program}'`;
      const context = `${what}, read by node ${this.#options.node} as input '${stream}'`;
      const name = (e: unknown) => nameRemote(e, node, address, context, this.#held("starved"));
      // A pulled program's connection may be one kept from an earlier run, and is kept after.
      const client = await this.#connect(address, name, source.kind === "program");
      try {
        if (source.kind === "block") {
          const retrieve = await client.openRetrieve(source.block);
          const announced = retrieve.response().then((r) => {
            this.#learnLength(r.length);
            return r.length;
          }, (e) => Promise.reject(name(e)));
          announced.catch(() => {});
          const length = await Promise.race([announced, this.#length]);
          input = this.#track(
            new StepInput(
              stream,
              remoteChunks(retrieve, name, () => retrieve.close()),
              length,
              this.#host,
              announced,
            ),
          );
          input.onClose = () => {
            retrieve.close();
            this.#dropClient(client);
          };
        } else {
          const upstream = await openCoding(client, { ...request, program: source.program });
          const announced = upstream.response().then((r) => {
            if (!r.stream) {
              throw new CdfsError(
                "BAD_REQUEST",
                `program '${source.program}' is not a stream program: it cannot be an input`,
              );
            }
            this.#learnLength(r.length);
            return r.length;
          }).catch((e) => Promise.reject(name(e)));
          announced.catch(() => {});
          const length = await Promise.race([announced, this.#length]);
          const stop = () => upstream.abort(new CdfsError("UNAVAILABLE", "the consumer stopped"));
          input = this.#track(
            new StepInput(
              stream,
              remoteChunks(upstream, name, stop),
              length,
              this.#host,
              announced,
            ),
          );
          input.onClose = async (ended) => {
            if (this.#committing && ended) {
              try {
                await upstream.prepared();
              } catch (e) {
                this.#dropClient(client);
                throw name(e);
              }
              return;
            }
            stop();
            this.#dropClient(client);
          };
          input.onCommit = async () => {
            let committed;
            try {
              committed = await upstream.commit();
            } catch (e) {
              this.#dropClient(client);
              throw name(e);
            }
            this.#keepClient(client, address);
            return committed;
          };
        }
      } catch (e) {
        this.#dropClient(client);
        throw name(e);
      }
    }
    this.#openedInputs++;
    return input;
  }

  /**
   * Push mode: starts connecting to the node of the next program of the chain, so that the
   * connection is ready by the time {@linkcode NetworkStreamResolver.openDownstream} has the
   * stream's length (the chain is then set up at the pace of connects, not of input opens).
   *
   * @param node The next program's logical node.
   * @returns The connection (also kept for `openDownstream`).
   */
  connectDownstream(node: number): Promise<DataNodeClient> {
    const address = this.#options.request.nodes[node]!;
    this.#downstreamConnection ??= this.#connect(address, (e) => e, true);
    this.#downstreamConnection.catch(() => {}); // reported by openDownstream
    return this.#downstreamConnection;
  }

  /**
   * Push mode: opens the connection to the node of the next program of the chain and sends
   * it the request (the caller then sends this program's output through it). Its errors name
   * that node; {@linkcode NetworkStreamResolver.shutdown} aborts it.
   *
   * @param program The next program of the chain.
   * @param node Its logical node.
   * @param length The length of the stream that will be sent.
   * @param onProgress Told the progress that node reports.
   * @returns The sending side.
   * @throws {CdfsError} The node unreachable or refusing, named after it.
   */
  async openDownstream(
    program: string,
    node: number,
    length: number,
    onProgress: (done: number) => void,
  ): Promise<CodingPushStream> {
    this.#checkOpen();
    const { request } = this.#options;
    const address = request.nodes[node]!;
    const context = `program '${program}', pushed to by node ${this.#options.node}`;
    const name = (e: unknown) => nameRemote(e, node, address, context, this.#held("blocked"));
    const client = await (this.#downstreamConnection ?? this.connectDownstream(node))
      .catch((e) => Promise.reject(name(e)));
    let push: CodingPushStream;
    try {
      push = await openCodingPush(client, {
        ...request,
        program,
        push: { chain: request.push!.chain, length },
      }, onProgress);
    } catch (e) {
      this.#dropClient(client);
      throw name(e);
    }
    const named = <T>(operation: () => Promise<T>) =>
      operation().catch((e) => Promise.reject(name(e)));
    const downstream: CodingPushStream = {
      response: () => named(() => push.response()),
      send: (bytes) => named(() => push.send(bytes)),
      end: (trailer) => named(() => push.end(trailer)),
      prepared: () => named(() => push.prepared()),
      commit: () =>
        named(() => push.commit()).then((committed) => {
          this.#keepClient(client, address);
          return committed;
        }, (e) => {
          this.#dropClient(client);
          throw e;
        }),
      abort: (reason) => {
        push.abort(reason);
        this.#dropClient(client);
      },
    };
    this.#downstream = downstream;
    return downstream;
  }

  /**
   * Opens an output block of this node: a block store writer (chunks of the run's step size),
   * committed only on the run's commit decision.
   *
   * @param _stream The stream's name in the program.
   * @param block The block id.
   * @param length Its length.
   * @returns The output.
   * @throws {CdfsError} `EXISTS` when the block exists and the request does not overwrite.
   */
  async openOutput(_stream: string, block: string, length: number): Promise<CodingOutput> {
    this.#checkOpen();
    const { store, request, node } = this.#options;
    const writer = await store.create(block, {
      overwrite: request.overwrite === true,
      length,
      chunkSize: this.#chunkSize,
    });
    return {
      write: (buffer: PooledBuffer, n: number) => writer.write(buffer.bytes.subarray(0, n)),
      commit: async () => {
        // The interpreter commits right after closing the inputs; the run's decision is
        // made elsewhere (the client, after every program of the run is prepared).
        if (!await this.#decision) {
          throw new CdfsError(
            "UNAVAILABLE",
            `the run was aborted before block '${block}' was committed`,
          );
        }
        const info = await writer.commit();
        this.committed.push({
          node,
          block,
          length: info.length,
          digest: formatChecksum(info.digest),
        });
      },
      abort: () => writer.abort(),
    };
  }

  /**
   * After the last step, before `ProgramRun.finish()`: from now on closing an input that was
   * read to its end waits for its upstream program's prepared reply (instead of aborting it).
   * {@linkcode NetworkStreamResolver.inputsPrepared} resolves when every input is closed so.
   */
  beginCommit(): void {
    this.#committing = true;
    if (this.#preparedInputs === this.#openedInputs) this.#resolvePrepared();
  }

  /**
   * The run's decision: commit (the outputs are committed when `finish()` gets to them, and
   * the commit goes to every upstream program) or abort (outputs discarded, upstream
   * connections closed). Only the first call counts.
   *
   * @param commit Whether to commit.
   */
  decide(commit: boolean): void {
    if (this.#decided) return;
    this.#decided = true;
    this.#decide(commit);
    if (commit) {
      const commits = [...this.#inputs].map((input) => input.onCommit?.() ?? Promise.resolve([]));
      this.#upstream = Promise.all(commits).then((lists) => lists.flat());
      this.#upstream.catch(() => {});
    } else {
      this.shutdown();
    }
  }

  /**
   * After a commit decision: the blocks the upstream programs committed.
   *
   * @returns Their blocks.
   * @throws {CdfsError} An upstream node's failure to commit, naming it.
   */
  upstreamCommitted(): Promise<CommittedBlock[]> {
    return this.#upstream ?? Promise.resolve([]);
  }

  /** Closes every connection to another node and aborts the decision; idempotent. */
  shutdown(): void {
    if (!this.#decided) {
      this.#decided = true;
      this.#decide(false);
    }
    if (this.#closed) return;
    this.#closed = true;
    this.#downstream?.abort(new CdfsError("UNAVAILABLE", "the run failed"));
    for (const input of this.#inputs) input.interrupt();
    for (const client of this.#clients) client.close();
    this.#clients.clear();
  }

  /** The input a push-mode producer sends on the request's connection. */
  async #openPushed(stream: string, pushed: PushedInput): Promise<StepInput> {
    const address = this.#options.request.nodes[pushed.node]!;
    const context =
      `program '${pushed.program}', pushed to node ${this.#options.node} as input '${stream}'`;
    const name = (e: unknown) =>
      nameRemote(e, pushed.node, address, context, this.#held("starved"));
    this.#learnLength(pushed.length);
    let data: PullStream;
    try {
      data = await PullStream.create(pushed.conn, {
        chunkSize: this.#chunkSize,
        length: pushed.length,
        // The producer says it is alive while it waits for its own inputs.
        onReply: (body) => {
          if (!("progress" in parseResponse("CODING", body))) {
            throw new CdfsError("BAD_REQUEST", `unexpected frame in the pushed stream`);
          }
        },
      });
    } catch (e) {
      throw name(e);
    }
    const source: ChunkSource = {
      next: () => data.next().catch((e) => Promise.reject(name(e))),
      read: async (view) => {
        try {
          await data.read(view);
        } catch (e) {
          throw name(e);
        }
      },
      // The connection is the request's own: the server closes it after its ERROR.
      stop: () => {},
    };
    return this.#track(new StepInput(stream, source, pushed.length, this.#host));
  }

  /**
   * Connects to another node of the run (tracked: shutdown closes it), or takes a connection
   * kept in the pool when `reuse` says so (then counted as this run's).
   */
  async #connect(
    address: string,
    name: (e: unknown) => unknown,
    reuse = false,
  ): Promise<DataNodeClient> {
    const key = reuse ? this.#keptKey(address) : undefined;
    const options = this.#clientOptions(address);
    let client = key === undefined ? null : this.#options.peerClients!.take(key);
    if (client !== null) client.meterWith(options.meter);
    else {
      try {
        client = await DataNodeClient.connect(address, options);
      } catch (e) {
        // One answer for every way connecting fails: the requester learns nothing of what
        // listens where (docs/protocol.md, CODING, peers).
        try {
          this.#options.peerFailed?.(address, e);
        } catch {
          // A broken log must not change the error.
        }
        const ms = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
        throw name(
          isCdfsError(e, "TIMEOUT")
            ? new CdfsError("TIMEOUT", `unreachable: no answer within ${ms} ms`)
            : new CdfsError("UNAVAILABLE", "unreachable"),
        );
      }
    }
    this.#clients.add(client);
    if (this.#closed) client.close();
    return client;
  }

  #track(input: StepInput): StepInput {
    this.#inputs.add(input);
    return input;
  }

  /**
   * The options of a connection to `address`: the node's timeouts, at most the run's stall
   * timeout, metered as the run's when counting.
   */
  #clientOptions(address: string): DataNodeClientOptions {
    const { client, traffic, request } = this.#options;
    const options = withStallTimeout(client, request.timeoutMs);
    if (traffic === undefined) return options;
    return { ...options, meter: traffic.upstreamMeter(request.run, address) };
  }

  /** How this node was held up by a peer that timed out, for its error. */
  #held(way: "starved" | "blocked"): string {
    return `node ${this.#options.node} was ${way} by it`;
  }

  #dropClient(client: DataNodeClient): void {
    client.close();
    this.#clients.delete(client);
  }

  /**
   * The pool key of a connection that carries a program's stream (pulled, or pushed on), kept
   * once its run committed: its node and this run's stall timeout.
   */
  #keptKey(address: string): string | undefined {
    if (this.#options.peerClients === undefined) return undefined;
    return `${address}|${this.#options.request.timeoutMs ?? "default"}`;
  }

  /** Gives a client whose run committed to the pool (no longer this run's), else closes it. */
  #keepClient(client: DataNodeClient, address: string): void {
    this.#clients.delete(client);
    const key = this.#keptKey(address);
    if (key === undefined || this.#closed) client.close();
    else this.#options.peerClients!.give(key, client);
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw this.#options.signal.reason ??
        new CdfsError("UNAVAILABLE", "the coding run was aborted");
    }
  }
}

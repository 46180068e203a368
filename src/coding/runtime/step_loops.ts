/**
 * The step loops of a served CODING program: a stream program's steps go out as DATA frames
 * (one in flight while the next step is computed) followed by END; a local program's steps
 * only count towards its progress. Between steps, a requester that sent something (an ERROR)
 * or closed has given up.
 *
 * @module
 */
import { createChecksummer } from "../../checksum/checksum.ts";
import { CdfsError } from "../../core/errors.ts";
import type { EndTrailer } from "../../protocol/frame.ts";
import type { ProgressWriter } from "../../protocol/progress_writer.ts";
import type { CodingSession } from "./coding_session.ts";
import type { ProgramRun } from "./run_interface.ts";

/**
 * Where a stream program's steps go: the client's connection, or the next node's.
 *
 * @example
 * ```ts
 * import type { StreamSink } from "./step_loops.ts";
 * const sent: number[] = [];
 * const sink: StreamSink = {
 *   data: (bytes) => {
 *     sent.push(bytes.length);
 *     return Promise.resolve(0n);
 *   },
 *   end: () => Promise.resolve(),
 * };
 * ```
 */
export interface StreamSink {
  /** Sends one step as a DATA frame; resolves to the frame's checksum. */
  data(bytes: Uint8Array): Promise<bigint>;
  /** Sends the END trailer. */
  end(trailer: EndTrailer): Promise<void>;
}

/**
 * How the steps of a run are watched.
 *
 * @example
 * Not run by `deno test --doc`: a fragment of a served run (`writer`).
 * ```ts ignore
 * import type { StepWatch } from "./step_loops.ts";
 * const watch: StepWatch = { writer, pushedIn: false, stepDone: () => {} };
 * ```
 */
export interface StepWatch {
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
 *
 * @example
 * Not run by `deno test --doc`: a fragment of a served run (`session`, `run`, `watch`).
 * ```ts ignore
 * import { sendStream } from "./step_loops.ts";
 * await sendStream(session, run, { data: (b) => conn.writeDataFrame(b), end: (t) => conn.writeEnd(t) }, watch);
 * ```
 *
 * @param ctx The request being served (its byte count grows with each step sent).
 * @param run The opened run of a stream program.
 * @param sink Where the steps go.
 * @param watch The reply writer and the step callbacks.
 * @throws The run's failure, the sink's, or the requester's giving up.
 */
export async function sendStream(
  ctx: CodingSession,
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

/**
 * Runs a local program's steps (the writer reports the progress).
 *
 * @example
 * Not run by `deno test --doc`: a fragment of a served run (`session`, `run`, `watch`).
 * ```ts ignore
 * import { runSteps } from "./step_loops.ts";
 * await runSteps(session, run, watch);
 * ```
 *
 * @param ctx The request being served (its byte count grows with each step).
 * @param run The opened run of a local program.
 * @param watch The reply writer and the step callbacks.
 * @throws The run's failure, or the requester's giving up.
 */
export async function runSteps(
  ctx: CodingSession,
  run: ProgramRun,
  watch: StepWatch,
): Promise<void> {
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
async function checkClient(ctx: CodingSession, watch: StepWatch): Promise<void> {
  watch.writer.check();
  // A pushed stream's frames are the producer's data, read by the input.
  if (watch.pushedIn || !ctx.conn.peerSentData) return;
  throw await ctx.conn.takeEarlyReply(0) ??
    new CdfsError("UNAVAILABLE", "the client closed the connection during the run");
}

/**
 * A frame-aware TCP relay in front of a datanode that loses replies on demand: bytes from the
 * client pass as they are; bytes from the node are read frame by frame, and while drops are
 * armed, a RESPONSE (or ERROR) frame is not passed on: the relay closes both sides instead, as
 * if the link died right after the node answered. The node has then done the request; the
 * client sees the connection close without a reply.
 *
 * @module
 */

const PREAMBLE = 8;
const HEADER = 16;
const RESPONSE = 2;
const ERROR = 5;

/** A relay that drops the next armed replies. */
export class ReplyDropper implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #target: { hostname: string; port: number };
  readonly #conns = new Set<Deno.Conn>();
  readonly #serving: Promise<void>;
  #armed = 0;
  #onDrop: (() => Promise<void>) | undefined;
  #match: ((payload: string) => boolean) | undefined;
  /** Replies dropped so far. */
  dropped = 0;
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(listener: Deno.TcpListener, target: { hostname: string; port: number }) {
    this.#listener = listener;
    this.#target = target;
    this.#serving = this.#accept();
  }

  /** Starts a relay on a free loopback port in front of `target` (`127.0.0.1:PORT`). */
  static start(target: string): ReplyDropper {
    const [hostname, port] = target.split(":");
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return new ReplyDropper(listener, { hostname: hostname!, port: Number(port) });
  }

  /** The relay's `127.0.0.1:PORT`, to give the client. */
  get address(): string {
    return `127.0.0.1:${this.#listener.addr.port}`;
  }

  /**
   * Drops the next `count` replies (RESPONSE or ERROR frames) of the node; `onDrop` runs
   * before the connection is closed (while the client still waits for the reply). With
   * `match`, only replies whose payload (as text) it accepts are dropped; others pass.
   */
  drop(count = 1, onDrop?: () => Promise<void>, match?: (payload: string) => boolean): void {
    this.#armed += count;
    this.#onDrop = onDrop;
    this.#match = match;
  }

  async #accept(): Promise<void> {
    for await (const client of this.#listener) {
      this.accepted++;
      let node: Deno.Conn;
      try {
        node = await Deno.connect(this.#target);
      } catch {
        client.close();
        continue;
      }
      this.#conns.add(client);
      this.#conns.add(node);
      const close = () => {
        for (const c of [client, node]) {
          if (this.#conns.delete(c)) {
            try {
              c.close();
            } catch {
              // already closed
            }
          }
        }
      };
      this.#pipe(client, node).catch(() => {}).finally(close);
      this.#frames(node, client).catch(() => {}).finally(close);
    }
  }

  /** Copies bytes from one side to the other until either ends. */
  async #pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      const n = await from.read(buffer);
      if (n === null) return;
      await writeAll(to, buffer.subarray(0, n));
    }
  }

  /** Passes the node's preamble and frames to the client, dropping armed replies. */
  async #frames(node: Deno.Conn, client: Deno.Conn): Promise<void> {
    const preamble = await readExactly(node, PREAMBLE);
    if (preamble === null) return;
    await writeAll(client, preamble);
    while (true) {
      const header = await readExactly(node, HEADER);
      if (header === null) return;
      const type = header[0]!;
      const length = new DataView(header.buffer).getUint32(4, false);
      const payload = length === 0 ? new Uint8Array(0) : await readExactly(node, length);
      if (payload === null) return;
      if (
        (type === RESPONSE || type === ERROR) && this.#armed > 0 &&
        (this.#match === undefined || this.#match(new TextDecoder().decode(payload)))
      ) {
        this.#armed--;
        this.dropped++;
        const onDrop = this.#onDrop;
        this.#onDrop = undefined;
        await onDrop?.();
        return; // the caller closes both sides: the reply is lost
      }
      await writeAll(client, header);
      await writeAll(client, payload);
    }
  }

  /** Stops the relay and closes every connection. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
    this.#conns.clear();
    await this.#serving.catch(() => {});
  }
}

async function readExactly(conn: Deno.Conn, size: number): Promise<Uint8Array | null> {
  const bytes = new Uint8Array(size);
  let filled = 0;
  while (filled < size) {
    const n = await conn.read(bytes.subarray(filled));
    if (n === null) return null;
    filled += n;
  }
  return bytes;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

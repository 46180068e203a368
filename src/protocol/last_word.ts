/**
 * The last word of a connection that timed out or was cut short: a server's `TIMEOUT` or
 * `BUSY` ERROR frame, written so that it reaches the peer instead of being destroyed by a
 * reset.
 *
 * @module
 */

/** How long the last word of a timed-out connection waits for the peer to close, 250 ms. */
export const LAST_WORD_LINGER_MS = 250;

/**
 * Writes `bytes` (at most a second is spent on it), shuts down the sending side, drains what
 * the peer still sends until it closes or for at most {@linkcode LAST_WORD_LINGER_MS} (bytes
 * left unread would turn the close into a reset that destroys the last word), then calls
 * `close`. Best effort: it never throws.
 *
 * @example
 * Not run by `deno test --doc`: it needs a peer on a live connection (`conn`).
 * ```ts ignore
 * import { sayLastWord } from "./last_word.ts";
 * await sayLastWord(conn, errorFrame, pendingRead, () => conn.close());
 * ```
 *
 * @param conn The socket.
 * @param bytes The last word.
 * @param pending The read the wait was for: it takes the first of the peer's bytes.
 * @param close Closes the connection, at the end in every case.
 */
export async function sayLastWord(
  conn: Deno.Conn,
  bytes: Uint8Array,
  pending: Promise<unknown>,
  close: () => void,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = async () => {
    let written = 0;
    while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    await conn.closeWrite();
  };
  const drain = async () => {
    if (await pending.catch(() => null) === null) return;
    const scratch = new Uint8Array(4096);
    while (await conn.read(scratch) !== null);
  };
  const late = (ms: number) => new Promise((resolve) => timer = setTimeout(resolve, ms));
  try {
    await Promise.race([write(), late(1000)]);
    clearTimeout(timer);
    await Promise.race([drain(), late(LAST_WORD_LINGER_MS)]);
  } catch {
    // The peer is gone: there is no one left to tell.
  } finally {
    clearTimeout(timer);
    close();
  }
}

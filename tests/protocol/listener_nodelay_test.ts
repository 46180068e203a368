/**
 * TCP_NODELAY on TLS listeners: the connections a node accepts over TLS have Nagle's algorithm
 * off (their first reply does not wait for a delayed acknowledgement), as plain TCP ones do.
 */
import assert from "node:assert/strict";
import {
  hasNoDelay,
  setListenerNoDelay,
  socketDescriptors,
} from "../../src/protocol/listener_nodelay.ts";
import { listenNode } from "../../src/protocol/tls.ts";
import { devTls } from "../helpers/tls.ts";

/** Whether the socket `listener` accepted from `client` has TCP_NODELAY. */
function acceptedNoDelay(listener: Deno.Listener, client: Deno.Conn): boolean {
  const remotePort = (client.localAddr as Deno.NetAddr).port;
  const fds = socketDescriptors({ port: (listener.addr as Deno.NetAddr).port, remotePort });
  assert.equal(fds.length, 1, `the accepted socket's descriptor: ${fds}`);
  return hasNoDelay(fds[0]!);
}

Deno.test("a TLS node listener's connections have TCP_NODELAY; Deno's own TLS listener's do not", async () => {
  await using certs = await devTls();
  const options = { hostname: "127.0.0.1", port: 0, ...certs.server };
  for (const ours of [true, false]) {
    const listener = ours
      ? listenNode({ hostname: "127.0.0.1", port: 0 }, certs.server)
      : Deno.listenTls({ ...options, transport: "tcp" });
    try {
      const accepted = listener.accept();
      const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
      const server = await accepted;
      try {
        assert.equal(acceptedNoDelay(listener, client), ours, ours ? "listenNode" : "listenTls");
      } finally {
        client.close();
        server.close();
      }
    } finally {
      listener.close();
    }
  }
});

Deno.test("setListenerNoDelay says why when there is no such listener", () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  assert.equal(setListenerNoDelay(port), `no listening socket of this process on port ${port}`);
});

/**
 * A TCP relay on 127.0.0.1 that the demo's fault scenario puts in front of the chain's JSON-RPC port
 * and each node's gateway, so a test can take an endpoint away and give it back on the same address:
 * `down()` refuses new connections and cuts open ones (what a crashed or restarting server looks like
 * from outside), `up()` listens again, `retarget()` points it at a restarted server's new port, and
 * `crashAfter(text)` forwards the next request containing `text`, lets the server act on it, and goes
 * down before its reply gets back (the server did the work; the client never heard).
 */
import net from "node:net";

export interface TcpProxy {
  readonly url: string;
  readonly port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  retarget(port: number): void;
  /** Resolves once a request containing `text` was forwarded and the relay went down before the reply. */
  crashAfter(text: string): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  const sockets = new Set<net.Socket>();
  let trap: { text: string; crashed: () => void } | null = null;
  let server: net.Server | null = null;

  const relay = (client: net.Socket) => {
    const upstream = net.connect(target, "127.0.0.1");
    sockets.add(client).add(upstream);
    let armed = false;
    client.on("data", (chunk: Buffer) => {
      if (trap && chunk.includes(trap.text)) armed = true;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (armed && trap) {
        const { crashed } = trap;
        trap = null;
        void down().then(crashed);
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on("error", end);
      socket.on("close", end);
    }
  };

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const next = net.createServer(relay);
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => {
        server = next;
        resolve((next.address() as net.AddressInfo).port);
      });
    });

  const down = async () => {
    const current = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  const port = await listen(0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    down,
    up: async () => {
      if (server === null) await listen(port);
    },
    retarget: (next) => {
      target = next;
    },
    crashAfter: (text) =>
      new Promise<void>((resolve) => {
        trap = { text, crashed: resolve };
      }),
    close: down,
  };
}

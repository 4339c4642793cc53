/**
 * A TCP proxy in front of a real server, for tests of connections that die silently: `freeze()` stops
 * forwarding on every open connection without closing anything (a dropped NAT entry, a pulled cable);
 * new connections are forwarded normally.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  freeze(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  const pairs: Array<[Socket, Socket]> = [];
  const all = new Set<Socket>();
  const server: Server = createServer((client) => {
    proxy.accepted += 1;
    const upstream = connect({ host, port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    all.add(client);
    all.add(upstream);
    pairs.push(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const addr = server.address();
  const proxy: TcpProxy = {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    accepted: 0,
    freeze() {
      for (const [a, b] of pairs.splice(0)) {
        a.unpipe(b);
        b.unpipe(a);
        a.pause();
        b.pause();
        a.removeAllListeners('data');
        b.removeAllListeners('data');
      }
    },
    async close() {
      pairs.length = 0;
      for (const s of all) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

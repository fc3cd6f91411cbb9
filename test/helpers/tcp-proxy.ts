import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP forwarder the test can cut, standing in for a server that restarts: `cut()` resets every open connection
 * and refuses new ones (accepted, then reset at once), `restore()` forwards again. Only the connections through
 * it are touched, so a shared server (the CI's PostgreSQL) keeps serving everyone else.
 */
export class CuttableTcpProxy {
  private readonly sockets = new Set<Socket>();
  private down = false;
  /** Connections refused while cut. */
  refused = 0;

  private constructor(private readonly server: ReturnType<typeof createServer>) {}

  static async start(target: { host: string; port: number }): Promise<CuttableTcpProxy> {
    const server = createServer();
    const proxy = new CuttableTcpProxy(server);
    server.on('connection', (client) => {
      if (proxy.down) {
        proxy.refused += 1;
        client.resetAndDestroy();
        return;
      }
      const upstream = connect(target.port, target.host);
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        proxy.sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          proxy.sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `url` with its host and port replaced by this proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  cut(): void {
    this.down = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

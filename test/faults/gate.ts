/**
 * A TCP gate in front of a local server (the fake agent): while up it forwards connections; `down()`
 * stops listening and cuts every open connection, so callers get "connection refused" as from a
 * crashed host; `up()` listens again on the same port.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Gate {
  /** The gate's port on 127.0.0.1. */
  port: number;
  /** Connections accepted so far. */
  connections: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startGate(targetPort: number): Promise<Gate> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const gate: Gate = {
    port: 0,
    connections: 0,
    async up() {
      if (server) return;
      const s = createServer((inbound) => {
        gate.connections++;
        const outbound = connect(targetPort, '127.0.0.1');
        for (const sock of [inbound, outbound]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => undefined);
        }
        inbound.pipe(outbound).pipe(inbound);
        inbound.on('close', () => outbound.destroy());
        outbound.on('close', () => inbound.destroy());
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(gate.port, '127.0.0.1', () => resolve());
      });
      gate.port = (s.address() as { port: number }).port;
      server = s;
    },
    async down() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((r) => s.close(() => r()));
      for (const sock of sockets) sock.destroy();
      await closed;
    },
    close: () => gate.down(),
  };
  await gate.up();
  return gate;
}

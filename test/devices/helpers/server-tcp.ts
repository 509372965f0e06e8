/** Starts modbus-serial's own ServerTCP on 127.0.0.1 (ephemeral port unless one is given). */
import { ServerTCP, type IServiceVector } from 'modbus-serial';

export interface StartedServer {
  server: ServerTCP;
  port: number;
  close(): Promise<void>;
}

export async function startServerTCP(vector: IServiceVector, port = 0, unitID = 1): Promise<StartedServer> {
  const server = new ServerTCP(vector, { host: '127.0.0.1', port, unitID });
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('serverError', (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
  });
  // The bound port is only on the private net.Server; acceptable in tests.
  const bound = (server as unknown as { _server: { address(): { port: number } } })._server.address().port;
  return {
    server,
    port: bound,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); }),
  };
}

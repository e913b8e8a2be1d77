import { createServer } from 'node:net';

/** The configured HTTP port is taken by another process (or not ours to bind). */
export class PortUnavailableError extends Error {
  constructor(
    readonly port: number,
    readonly host: string,
    readonly code: string,
  ) {
    super(
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use (PORT=${port}, HOST=${host})`
        : `cannot listen on port ${port} on ${host}: ${code} (PORT=${port}, HOST=${host})`,
    );
  }
}

/**
 * Binds and releases host:port once, before the app migrates the database or takes the sync
 * lease, so a taken port fails the boot before any side effect. Port 0 (any free port) is
 * always free. Another process may still take the port in between: listen() is checked too.
 */
export async function assertPortAvailable(port: number, host: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(new PortUnavailableError(port, host, err.code ?? err.message)),
    );
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** listen()'s own failure, in the same words as the check above. */
export function listenError(err: unknown, port: number, host: string): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL'
    ? new PortUnavailableError(port, host, code)
    : (err as Error);
}

import { createServer, type AddressInfo } from 'node:net';
import { assertPortAvailable, listenError, PortUnavailableError } from './port-check';

describe('assertPortAvailable', () => {
  it('rejects a port another server holds, naming the port and host', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const err = await assertPortAvailable(port, '127.0.0.1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortUnavailableError);
      expect((err as Error).message).toBe(
        `port ${port} on 127.0.0.1 is already in use (PORT=${port}, HOST=127.0.0.1)`,
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('accepts a free port and leaves it free', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    await new Promise((resolve) => holder.close(resolve));
    await expect(assertPortAvailable(port, '127.0.0.1')).resolves.toBeUndefined();
    await expect(assertPortAvailable(port, '127.0.0.1')).resolves.toBeUndefined();
  });

  it('accepts port 0 (any free port) without binding', async () => {
    await expect(assertPortAvailable(0, '127.0.0.1')).resolves.toBeUndefined();
  });
});

describe('listenError', () => {
  it.each([
    ['EADDRINUSE', 'port 3000 on 0.0.0.0 is already in use (PORT=3000, HOST=0.0.0.0)'],
    ['EACCES', 'cannot listen on port 3000 on 0.0.0.0: EACCES (PORT=3000, HOST=0.0.0.0)'],
  ])('words %s like the check', (code, message) => {
    const err = Object.assign(new Error(`listen ${code}`), { code });
    expect(listenError(err, 3000, '0.0.0.0').message).toBe(message);
  });

  it('passes other errors through', () => {
    const err = new Error('database down');
    expect(listenError(err, 3000, '0.0.0.0')).toBe(err);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { until } from '../support/until';

/** A private redis-server child process (never the machine's shared Redis), for outage tests. */
export interface RedisServer {
  port: number;
  url: string;
  child: ChildProcess;
  /** SIGKILL; resolves when it has exited. */
  kill(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Starts `redis-server` without persistence on a free (or the given) port. */
export async function startRedisServer(port?: number): Promise<RedisServer> {
  const p = port ?? (await freePort());
  const child = spawn(
    'redis-server',
    ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await Promise.race([
      until(`redis-server to accept connections on port ${p}`, () => accepts(p), 10000),
      exited.then(() => {
        throw new Error(`redis-server exited before accepting connections on port ${p}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

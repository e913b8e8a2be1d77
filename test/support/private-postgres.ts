import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../src/core/database/migrator';

/** Debian's PostgreSQL server binaries (initdb, pg_ctl); PG_BIN overrides. */
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  port: number;
  /** Connection string of its `postgres` database (trust authentication, user postgres). */
  url: string;
  /** Starts the server and waits until it accepts connections. */
  start(): void;
  /** Stops the server at once (pg_ctl -m fast: open connections are terminated). */
  stop(): void;
  /** Stops the server if running and deletes its data folder. */
  destroy(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * initdb refuses to run as root: as root the server's files belong to, and its commands run as,
 * the `postgres` system user (runuser); as anyone else they run as that user.
 */
function runAsServerUser(args: string[]): void {
  const isRoot = process.getuid?.() === 0;
  const [cmd, ...rest] = isRoot ? ['runuser', '-u', 'postgres', '--', ...args] : args;
  execFileSync(cmd, rest, { stdio: 'pipe' });
}

/**
 * A PostgreSQL server of its own, in a temporary folder on a free port, that a test can stop and
 * start again (a database outage on demand, without touching the shared server).
 */
export async function createPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'private-pg-'));
  const data = path.join(dir, 'data');
  if (process.getuid?.() === 0) {
    const pg = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(pg.stdout.trim()), Number(gid.stdout.trim()));
  }
  chmodSync(dir, 0o700);
  runAsServerUser([
    path.join(PG_BIN, 'initdb'),
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  let running = false;
  const pgCtl = (...args: string[]): void =>
    runAsServerUser([path.join(PG_BIN, 'pg_ctl'), '-D', data, ...args]);
  const server: PrivatePostgres = {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    start() {
      // Unix socket in the data folder: the system's /var/run/postgresql belongs to the shared server.
      pgCtl(
        '-w',
        '-t',
        '60',
        '-o',
        `-p ${port} -c listen_addresses=127.0.0.1 -k ${data} -c fsync=off`,
        '-l',
        path.join(dir, 'server.log'),
        'start',
      );
      running = true;
    },
    stop() {
      if (!running) return;
      pgCtl('-w', '-t', '60', '-m', 'fast', 'stop');
      running = false;
    },
    destroy() {
      try {
        server.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return server;
}

/** Creates database `name` on the running server and migrates it; returns its connection string. */
export async function createMigratedDatabase(pg: PrivatePostgres, name: string): Promise<string> {
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = pg.url.replace(/\/postgres$/, `/${name}`);
  await migrate(url);
  return url;
}

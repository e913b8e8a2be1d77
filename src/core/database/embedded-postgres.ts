import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * Creates a PGlite data folder and exits. PGlite's initdb runs in a WebAssembly instance of its
 * own whose memory the process keeps long after initdb has finished (V8 frees it only when it
 * happens to collect): run here, it leaves with the child instead of staying in the service.
 */
const INITDB_SCRIPT = `
const { PGlite } = require(process.argv[1]);
PGlite.create(process.argv[2])
  .then((db) => db.close())
  .then(() => process.exit(0), (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });`;

const run = promisify(execFile);

/**
 * PostgreSQL's page cache, inside PGlite's WebAssembly memory and so resident for the life of the
 * process (PGlite's default is 128MB). Pages it does not hold are read through the operating
 * system's file cache.
 */
const SHARED_BUFFERS = '32MB';

/**
 * PostgreSQL compiled to WebAssembly (PGlite), persisted in a folder and served on a loopback
 * port, so the rest of the service talks to it exactly as to a real server (same driver, same
 * migrations). It is single-writer: one process per data folder.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly connectionString: string,
  ) {}

  static async start(dataDir: string): Promise<EmbeddedPostgres> {
    const dir = path.resolve(dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    if (!existsSync(path.join(dir, 'PG_VERSION'))) await initialise(dir);
    const db = await PGlite.create(dir, {
      startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`],
    });
    // A few connections: the migrator and the app's pool (PGlite serialises queries itself).
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
    await server.start();
    const url = `postgresql://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
    return new EmbeddedPostgres(db, server, url);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.db.close();
  }
}

/** Initialises an empty data folder in a short-lived child process (see INITDB_SCRIPT). */
async function initialise(dir: string): Promise<void> {
  try {
    await run(
      process.execPath,
      ['-e', INITDB_SCRIPT, require.resolve('@electric-sql/pglite'), dir],
      {
        maxBuffer: 1024 * 1024,
      },
    );
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(
      `could not initialise the embedded database in ${dir}: ${stderr || (err as Error).message}`,
      { cause: err },
    );
  }
}

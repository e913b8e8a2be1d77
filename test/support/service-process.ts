import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { showChildOutput } from './test-logs';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const MAIN_JS = path.join(PROJECT_ROOT, 'dist', 'main.js');

export interface ServiceProcess {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs the built service (dist/main.js) as a real process and waits for its "listening" line.
 * `npm test` builds dist/ first.
 */
export async function startServiceProcess(
  env: Record<string, string | undefined>,
  args: string[] = ['--demo'],
  timeoutMs = 45000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [MAIN_JS, ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  showChildOutput(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A process that never said it listens must not outlive the test (it would keep Jest open).
      child.kill('SIGKILL');
      reject(new Error(`service did not start:\n${out}`));
    }, timeoutMs);
    const check = (): void => {
      const m = /^(?=.*"msg":"listening").*"url":"(http:\/\/[^"]+)"/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace('[::1]', '127.0.0.1'));
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    child,
    baseUrl,
    output: () => out,
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs dist/main.js to completion (for boots that must fail) and returns its exit code and output. */
export function runServiceToExit(
  env: Record<string, string | undefined>,
  args: string[] = [],
  timeoutMs = 30000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    showChildOutput(child);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    // 'close', not 'exit': the last lines written before exit may still be in the pipes at 'exit'.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: out });
    });
  });
}

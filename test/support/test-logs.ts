import type { ChildProcess } from 'node:child_process';

/**
 * `TEST_LOGS=1 npm test` shows the service's logs (at LOG_LEVEL, default info): the in-process
 * apps' and those of the service processes the suites start. Otherwise tests stay quiet: the
 * fault-injection suites log hundreds of expected errors that read as failures among PASS lines.
 */
export const TEST_LOGS = process.env.TEST_LOGS === '1';

/** Copies a child's output to this process's stderr when TEST_LOGS=1 (it is captured anyway). */
export function showChildOutput(child: ChildProcess): void {
  if (!TEST_LOGS) return;
  // write(), not pipe(): many children at once would pile listeners on process.stderr.
  const copy = (d: Buffer): boolean => process.stderr.write(d);
  child.stdout?.on('data', copy);
  child.stderr?.on('data', copy);
}

import os from 'node:os';

/**
 * The name this process uses in the lease row and in status: INSTANCE_ID when set, otherwise
 * `<hostname>-<pid>`, which is unique per running process (a restarted process is a new instance).
 */
export function resolveInstanceId(
  configured: string | undefined,
  host: string = os.hostname(),
  pid: number = process.pid,
): string {
  if (configured) return configured;
  // holder_id is VARCHAR(128); very long hostnames are cut, the pid keeps it unique.
  return `${host.slice(0, 100)}-${pid}`;
}

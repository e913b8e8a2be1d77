/**
 * Polls `probe` until it returns a truthy value and returns that value; fails naming `what` after
 * `ms` (a function is asked only then, so it can describe the last state seen). A probe that
 * throws is polled again (a process still starting, a node just killed) and the failure names its
 * last error. Tests wait for conditions this way instead of sleeping fixed times.
 */
export async function until<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  ms = 20000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    let lastError: unknown;
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const name = typeof what === 'function' ? what() : what;
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${ms} ms waiting for ${name}${cause}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

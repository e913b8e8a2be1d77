import type { INestApplication, LoggerService } from '@nestjs/common';
import { ShutdownCoordinator } from './shutdown-coordinator';

const EXIT_CODE: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
const CONTEXT = 'Shutdown';

export interface ShutdownSignalOptions {
  timeoutMs: number;
  exit?: (code: number) => void;
  signals?: NodeJS.Signals[];
}

/**
 * SIGTERM/SIGINT: drain (ShutdownCoordinator), close the application (modules, database), exit 0.
 * A second signal exits at once with 128+signal. If closing hangs past the timeout plus a margin,
 * the process exits anyway (1): an orchestrator would SIGKILL it soon after.
 * Used instead of Nest's enableShutdownHooks(), which re-raises the signal (exit code 143).
 */
export function installShutdownSignals(
  app: INestApplication,
  logger: LoggerService,
  options: ShutdownSignalOptions,
): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let received: string | null = null;

  const shutdown = async (signal: string): Promise<void> => {
    const started = Date.now();
    logger.log({ msg: 'shutting down', signal, timeoutMs: options.timeoutMs }, CONTEXT);
    const hardStop = setTimeout(() => {
      logger.error({ msg: 'shutdown did not finish in time: exiting', signal }, CONTEXT);
      exit(1);
    }, options.timeoutMs + 10_000);
    hardStop.unref();
    try {
      await app.get(ShutdownCoordinator).prepare(signal);
      await app.close();
      clearTimeout(hardStop);
      logger.log({ msg: 'stopped', signal, durationMs: Date.now() - started }, CONTEXT);
      exit(0);
    } catch (err) {
      clearTimeout(hardStop);
      logger.error({ msg: 'shutdown failed', signal, error: (err as Error).message }, CONTEXT);
      exit(1);
    }
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (received) {
      logger.warn({ msg: 'second signal: exiting at once', signal, first: received }, CONTEXT);
      exit(EXIT_CODE[signal] ?? 1);
      return;
    }
    received = signal;
    void shutdown(signal);
  };
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.removeListener(s, onSignal);
  };
}

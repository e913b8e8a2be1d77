import type { INestApplication, LoggerService } from '@nestjs/common';
import { until } from '../../test/support/until';
import { installShutdownSignals } from './shutdown-signals';

/** A fake application recording the order of shutdown steps; `closing` controls when close ends. */
function fakeApp(steps: string[], closing: Promise<void> = Promise.resolve()): INestApplication {
  const coordinator = {
    prepare: (signal: string) => {
      steps.push(`prepare:${signal}`);
      return Promise.resolve();
    },
  };
  return {
    get: () => coordinator,
    close: async () => {
      steps.push('close');
      await closing;
    },
  } as unknown as INestApplication;
}

const silent: LoggerService = {
  log: () => undefined,
  error: () => undefined,
  warn: () => undefined,
};

describe('installShutdownSignals', () => {
  // SIGUSR2 stands in for SIGTERM so that the test runner's own handlers are not involved.
  const signal = 'SIGUSR2' as NodeJS.Signals;
  let uninstall: (() => void) | undefined;
  afterEach(() => uninstall?.());

  it('drains through the coordinator, then closes the app, then exits 0', async () => {
    const steps: string[] = [];
    const codes: number[] = [];
    uninstall = installShutdownSignals(fakeApp(steps), silent, {
      timeoutMs: 1000,
      exit: (code) => codes.push(code),
      signals: [signal],
    });
    process.emit(signal, signal);
    await until('an exit code', () => codes.length > 0, 2000, 0);
    expect(steps).toEqual([`prepare:${signal}`, 'close']);
    expect(codes).toEqual([0]);
  });

  it('exits at once with a non-zero code on a second signal while shutting down', async () => {
    const steps: string[] = [];
    const codes: number[] = [];
    let finishClose: () => void = () => undefined;
    const closing = new Promise<void>((resolve) => (finishClose = resolve));
    uninstall = installShutdownSignals(fakeApp(steps, closing), silent, {
      timeoutMs: 1000,
      exit: (code) => codes.push(code),
      signals: [signal],
    });
    process.emit(signal, signal);
    await until('the app to close', () => steps.includes('close'), 2000, 0);
    process.emit(signal, signal);
    expect(codes).toEqual([1]);
    finishClose();
    await until('a second exit code', () => codes.length > 1, 2000, 0);
    expect(codes).toEqual([1, 0]);
  });

  it('exits 1 when the shutdown itself fails', async () => {
    const codes: number[] = [];
    const app = {
      get: () => ({ prepare: () => Promise.reject(new Error('database gone')) }),
      close: () => Promise.resolve(),
    } as unknown as INestApplication;
    uninstall = installShutdownSignals(app, silent, {
      timeoutMs: 1000,
      exit: (code) => codes.push(code),
      signals: [signal],
    });
    process.emit(signal, signal);
    await until('an exit code', () => codes.length > 0, 2000, 0);
    expect(codes).toEqual([1]);
  });
});

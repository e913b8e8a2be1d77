import { CallWindow } from './call-window';

/** Settles pending promise callbacks between fake-timer steps. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('CallWindow.room', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('gives one free place to one waiter: a second one waits until a place frees', async () => {
    const w = new CallWindow(3, 1000, 0);
    for (let i = 0; i < 2; i++) await w.room({ at: 0 }); // two of three places taken
    jest.advanceTimersByTime(100);

    const entered: string[] = [];
    const a = w.room({ at: 0 }).then(() => entered.push('a'));
    const b = w.room({ at: 0 }).then(() => entered.push('b'));
    await flush();
    expect(entered).toEqual(['a']);
    expect(w.spent(Date.now())).toBe(3);

    // The first two places leave the window 1000 ms after they were taken.
    jest.advanceTimersByTime(899);
    await flush();
    expect(entered).toEqual(['a']);
    jest.advanceTimersByTime(300);
    await flush();
    await Promise.all([a, b]);
    expect(entered).toEqual(['a', 'b']);
  });

  it('takes a place back when the call is not sent (unstamp)', async () => {
    const w = new CallWindow(1, 1000, 0);
    const reserved = { at: 0 };
    await w.room(reserved);
    expect(w.spent(Date.now())).toBe(1);
    w.unstamp(reserved);
    expect(w.spent(Date.now())).toBe(0);
    let entered = false;
    void w.room({ at: 0 }).then(() => (entered = true));
    await flush();
    expect(entered).toBe(true);
  });

  it('keeps sends the gap apart even when places are free', async () => {
    const w = new CallWindow(5, 1000, 0, 100);
    const entered: number[] = [];
    const t0 = Date.now();
    const all = [0, 1, 2].map(() => w.room({ at: 0 }).then(() => entered.push(Date.now() - t0)));
    await flush();
    expect(entered).toEqual([0]);
    for (let i = 0; i < 30; i++) {
      jest.advanceTimersByTime(10);
      await flush();
    }
    await Promise.all(all);
    expect(entered).toEqual([0, 100, 200]);
  });

  it('moves a reserved place to the send time, not a second one', async () => {
    const w = new CallWindow(5, 1000, 0);
    const stamp = { at: 0 };
    await w.room(stamp);
    jest.advanceTimersByTime(10);
    w.stamp(stamp);
    expect(w.spent(Date.now())).toBe(1);
  });
});

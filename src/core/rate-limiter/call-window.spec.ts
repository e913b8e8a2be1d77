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

  it('keeps a call that hangs at its send time (plus at most the margin): its place frees a window after it was sent', async () => {
    const w = new CallWindow(1, 1000, 25);
    const stamp = { at: 0 };
    await w.room(stamp); // sent now
    jest.advanceTimersByTime(1500); // it hangs until its deadline
    w.answered(stamp);
    // The partner counted it when it arrived: its unit left the partner's window 1000 ms after
    // the send, so the next place is free once the window and the margin have passed since then.
    let entered = false;
    void w.room({ at: 0 }).then(() => (entered = true));
    await flush();
    expect(entered).toBe(true);
  });

  it('moves a quick answer to its answer time (the partner counted it by then)', async () => {
    const w = new CallWindow(1, 1000, 25);
    const stamp = { at: 0 };
    await w.room(stamp);
    jest.advanceTimersByTime(10);
    w.answered(stamp);
    jest.advanceTimersByTime(1015); // 1025 ms after the send, 1015 after the answer
    let entered = false;
    void w.room({ at: 0 }).then(() => (entered = true));
    await flush();
    expect(entered).toBe(false);
    jest.advanceTimersByTime(300);
    await flush();
    expect(entered).toBe(true);
  });

  it('moves an answer that came within the pace to its answer time, even past the margin', async () => {
    // A loaded machine can deliver a request later than the margin after its send; an answer
    // within one pace step (here 205 ms) proves the partner counted it by then, not before.
    const w = new CallWindow(1, 1000, 25, 0, 205);
    const stamp = { at: 0 };
    await w.room(stamp);
    jest.advanceTimersByTime(150);
    w.answered(stamp);
    jest.advanceTimersByTime(1000); // 1150 ms after the send, 1000 after the answer
    let entered = false;
    void w.room({ at: 0 }).then(() => (entered = true));
    await flush();
    expect(entered).toBe(false);
    jest.advanceTimersByTime(30);
    await flush();
    expect(entered).toBe(true);
  });
});

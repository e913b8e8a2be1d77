import { KeyBatcher } from './key-batcher';

/** A lookup whose calls are recorded and answered (or failed) when the test says so. */
function controlledLookup() {
  const calls: Array<{ keys: string[]; answer: () => void; fail: (err: unknown) => void }> = [];
  const lookup = (keys: string[]): Promise<string[]> =>
    new Promise((resolve, reject) => {
      calls.push({ keys, answer: () => resolve(keys.map((k) => `v:${k}`)), fail: reject });
    });
  return { calls, lookup };
}

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyBatcher', () => {
  it('looks a lone key up at once, alone', async () => {
    const { calls, lookup } = controlledLookup();
    const batcher = new KeyBatcher(lookup, 2, 10);
    const a = batcher.get('a');
    expect(calls.map((c) => c.keys)).toEqual([['a']]);
    calls[0].answer();
    await expect(a).resolves.toBe('v:a');
  });

  it('sends the keys that waited while every lookup ran together, each getting its own value', async () => {
    const { calls, lookup } = controlledLookup();
    const batcher = new KeyBatcher(lookup, 2, 10);
    const first = [batcher.get('a'), batcher.get('b')];
    const waiting = [batcher.get('c'), batcher.get('d'), batcher.get('c')];
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b']]);

    calls[1].answer();
    await settle();
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b'], ['c', 'd', 'c']]);
    calls[2].answer();
    calls[0].answer();
    await expect(Promise.all([...first, ...waiting])).resolves.toEqual([
      'v:a',
      'v:b',
      'v:c',
      'v:d',
      'v:c',
    ]);
  });

  it('puts at most maxBatch keys in one lookup', async () => {
    const { calls, lookup } = controlledLookup();
    const batcher = new KeyBatcher(lookup, 1, 2);
    const all = ['a', 'b', 'c', 'd', 'e'].map((k) => batcher.get(k));
    for (let i = 0; i < 3; i++) {
      calls[i].answer();
      await settle();
    }
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
    await expect(Promise.all(all)).resolves.toEqual(['v:a', 'v:b', 'v:c', 'v:d', 'v:e']);
  });

  it('fails each key of a failed lookup with its error, and the next lookup still runs', async () => {
    const { calls, lookup } = controlledLookup();
    const batcher = new KeyBatcher(lookup, 1, 10);
    const a = batcher.get('a');
    const waiting = [batcher.get('b'), batcher.get('c')];
    calls[0].answer();
    await settle();
    const down = new Error('database down');
    calls[1].fail(down);
    await expect(a).resolves.toBe('v:a');
    for (const w of waiting) await expect(w).rejects.toBe(down);

    const d = batcher.get('d');
    expect(calls[2].keys).toEqual(['d']);
    calls[2].answer();
    await expect(d).resolves.toBe('v:d');
  });

  it('fails the keys of a lookup that throws instead of rejecting', async () => {
    const broken = new Error('bad statement');
    const batcher = new KeyBatcher<string, string>(
      () => {
        throw broken;
      },
      1,
      10,
    );
    await expect(batcher.get('a')).rejects.toBe(broken);
    await expect(batcher.get('b')).rejects.toBe(broken);
  });

  it('refuses a limit below 1', () => {
    const { lookup } = controlledLookup();
    expect(() => new KeyBatcher(lookup, 0, 10)).toThrow(RangeError);
    expect(() => new KeyBatcher(lookup, 1, 0)).toThrow(RangeError);
  });
});

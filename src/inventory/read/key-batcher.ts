interface Waiting<K, V> {
  key: K;
  resolve: (value: V) => void;
  reject: (err: unknown) => void;
}

/**
 * Looks keys up in batches without adding a wait: a key goes at once while fewer than
 * `maxInFlight` lookups run; one asked for while they all run waits, and every key waiting when
 * one finishes goes in the next lookup together (at most `maxBatch`). Under load, keys that would
 * have queued for a database connection anyway share one statement and one round trip; a lone
 * key is looked up alone, as before. A failed lookup fails each of its keys with its error.
 */
export class KeyBatcher<K, V> {
  private readonly waiting: Array<Waiting<K, V>> = [];
  private inFlight = 0;

  /** `lookup` answers the keys it is given in their order (one value per key). */
  constructor(
    private readonly lookup: (keys: K[]) => Promise<V[]>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
  ) {
    if (!(maxInFlight >= 1 && maxBatch >= 1)) {
      throw new RangeError('maxInFlight and maxBatch must be at least 1');
    }
  }

  get(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      this.inFlight += 1;
      // A lookup that throws instead of rejecting fails its keys the same way.
      void new Promise<V[]>((resolve) => resolve(this.lookup(batch.map((w) => w.key))))
        .then(
          (values) => batch.forEach((w, i) => w.resolve(values[i])),
          (err: unknown) => batch.forEach((w) => w.reject(err)),
        )
        .finally(() => {
          this.inFlight -= 1;
          this.drain();
        });
    }
  }
}

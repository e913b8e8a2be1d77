/** Reads of one product-date counted since the last flush. */
export interface ReadCount {
  productId: number;
  /** YYYY-MM-DD */
  date: string;
  reads: number;
}

/**
 * Reads counted in process between two flushes: a map per product of counts per date, so that a
 * read costs two map lookups and no allocation once its product-date was counted. Bounded: past
 * `maxEntries` product-dates a read of a new one is dropped (and counted as dropped), so an
 * outage that outlasts many flushes cannot grow it without end.
 */
export class ReadDemandCounter {
  private counts = new Map<number, Map<string, number>>();
  private entries = 0;
  private droppedReads = 0;

  constructor(private readonly maxEntries: number) {}

  /** Product-dates waiting to be flushed. */
  get size(): number {
    return this.entries;
  }

  /** Reads dropped because the map was full, since the start. */
  get dropped(): number {
    return this.droppedReads;
  }

  count(productId: number, date: string, reads = 1): void {
    let dates = this.counts.get(productId);
    const known = dates?.get(date);
    if (known !== undefined) {
      dates!.set(date, known + reads);
      return;
    }
    if (this.entries >= this.maxEntries) {
      this.droppedReads += reads;
      return;
    }
    if (!dates) {
      dates = new Map();
      this.counts.set(productId, dates);
    }
    dates.set(date, reads);
    this.entries++;
  }

  /**
   * Everything counted, by product then date (the order the flush locks rows in, the same on
   * every instance, so two flushes of the same rows cannot deadlock); the counter starts empty.
   */
  take(): ReadCount[] {
    const out: ReadCount[] = [];
    for (const [productId, dates] of this.counts) {
      for (const [date, reads] of dates) out.push({ productId, date, reads });
    }
    this.counts = new Map();
    this.entries = 0;
    return out.sort(
      (a, b) => a.productId - b.productId || (a.date < b.date ? -1 : a.date > b.date ? 1 : 0),
    );
  }

  /** Puts back counts a flush could not write (added to what was counted since). */
  restore(counts: readonly ReadCount[]): void {
    for (const c of counts) this.count(c.productId, c.date, c.reads);
  }
}

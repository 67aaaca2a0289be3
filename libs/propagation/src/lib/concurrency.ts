/**
 * At most `size` tasks at once; the others wait their turn in arrival order. The propagator's
 * simultaneous slave calls are bounded by one of these (PROPAGATION_CONCURRENCY), whether they come
 * from batch jobs or single ones.
 */
export class Slots {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly size: number) {
    if (!(size >= 1)) throw new RangeError('Slots needs a size of at least 1');
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active += 1;
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}

/**
 * Group commit: items submitted while a write is running, or within `lingerMs` of the first one,
 * are written together by one call of `write`, which answers one result per item, in order. Each
 * caller gets its own item's result, or the error of the write that carried it.
 */
export class Coalescer<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = 0;

  /**
   * `parallel`: how many writes may run at once (each takes what is pending when it starts);
   * `maxItems`: the most one write carries; `lingerMs`: how long a write waits for company once
   * something is pending (0: the next turn of the event loop). Lingering trades that much latency
   * for fewer, larger writes.
   */
  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly options: { maxItems?: number; parallel?: number; lingerMs?: number } = {},
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.running < (this.options.parallel ?? 1)) {
        this.running += 1;
        const linger = this.options.lingerMs ?? 0;
        if (linger > 0) setTimeout(() => void this.drain(), linger);
        else setImmediate(() => void this.drain());
      }
    });
  }

  private async drain() {
    while (this.pending.length > 0) {
      const group = this.pending.splice(0, this.options.maxItems ?? 500);
      try {
        const results = await this.write(group.map((g) => g.item));
        group.forEach((g, i) => g.resolve(results[i]));
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    }
    this.running -= 1;
  }
}

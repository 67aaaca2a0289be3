import { availableParallelism } from 'node:os';

/** The pool is full: the caller answers "try again in a moment" at once. */
export class HashPoolBusyError extends Error {
  constructor() {
    super('password hashing pool is full');
    this.name = 'HashPoolBusyError';
  }
}

export interface HashPoolOptions {
  /** Hashes running at once (each holds one libuv thread-pool thread and one core for ~0.5 s). */
  concurrency: number;
  /** Hashes waiting for a free slot; one more is refused with HashPoolBusyError. */
  queue: number;
}

/**
 * Default sizing: one hash per core but one (a core stays free for the event loops), at most 4 (the
 * libuv thread pool's default size, shared with DNS and file system work), and a queue of two per
 * slot, so that a queued sign-in waits at most about three hash times.
 */
export function defaultHashPoolOptions(cores = availableParallelism()): HashPoolOptions {
  const concurrency = Math.max(1, Math.min(4, cores - 1));
  return { concurrency, queue: 2 * concurrency };
}

/**
 * Bounds the expensive password hashes of a service: at most `concurrency` run, at most `queue` wait
 * (first come, first served); past that, `run` rejects at once with HashPoolBusyError. Nothing here
 * touches the event loop's time: the tasks are expected to work off-loop (native bcrypt).
 */
export class HashPool {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Tasks started, and tasks refused because the pool was full (for metrics and tests). */
  started = 0;
  refused = 0;

  constructor(readonly options: HashPoolOptions = defaultHashPoolOptions()) {
    if (!(options.concurrency >= 1) || !(options.queue >= 0)) throw new Error('HashPool: concurrency ≥ 1 and queue ≥ 0');
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Whether a task submitted now would be refused. */
  get full(): boolean {
    return this.active >= this.options.concurrency && this.waiting.length >= this.options.queue;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.options.concurrency) {
      this.active++;
    } else if (this.waiting.length < this.options.queue) {
      // The slot is handed over by the task that finishes (active stays counted).
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.refused++;
      throw new HashPoolBusyError();
    }
    this.started++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

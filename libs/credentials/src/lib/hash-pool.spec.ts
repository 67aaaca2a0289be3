import fc from 'fast-check';
import { HashPool, HashPoolBusyError, defaultHashPoolOptions } from './hash-pool';

const tick = () => new Promise((r) => setImmediate(r));

/** A task the test finishes by hand. */
function gate() {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { task: () => done, open, fail };
}

describe('HashPool: bounded password hashing', () => {
  it('sizes itself from the cores: one left to the event loops, at most four, a queue of two per slot', () => {
    expect(defaultHashPoolOptions(1)).toEqual({ concurrency: 1, queue: 2 });
    expect(defaultHashPoolOptions(2)).toEqual({ concurrency: 1, queue: 2 });
    expect(defaultHashPoolOptions(4)).toEqual({ concurrency: 3, queue: 6 });
    expect(defaultHashPoolOptions(64)).toEqual({ concurrency: 4, queue: 8 });
  });

  it('runs `concurrency` tasks, queues `queue` more in order, refuses the next at once, and frees slots on failure', async () => {
    const pool = new HashPool({ concurrency: 2, queue: 1 });
    const gates = [gate(), gate(), gate()];
    const order: number[] = [];
    const runs = gates.map((g, i) => pool.run(async () => (order.push(i), g.task())));
    await tick();
    expect([pool.running, pool.queued, order]).toEqual([2, 1, [0, 1]]);
    expect(pool.full).toBe(true);
    await expect(pool.run(async () => 'never')).rejects.toBeInstanceOf(HashPoolBusyError);
    expect(pool.refused).toBe(1);
    gates[1].fail(new Error('hash failed'));
    await expect(runs[1]).rejects.toThrow('hash failed');
    await tick();
    expect(order).toEqual([0, 1, 2]);
    expect([pool.running, pool.queued, pool.full]).toEqual([2, 0, false]);
    gates[0].open();
    gates[2].open();
    await Promise.all([runs[0], runs[2]]);
    expect([pool.running, pool.queued, pool.started]).toEqual([0, 0, 3]);
  }, 60_000);

  it('never runs more than `concurrency` or holds more than `queue`, and refuses exactly when full (any interleaving)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.oneof(fc.constant('submit' as const), fc.nat({ max: 20 })), { maxLength: 60 }),
        async (concurrency, queue, steps) => {
          const pool = new HashPool({ concurrency, queue });
          let inside = 0;
          let maxInside = 0;
          const live: ReturnType<typeof gate>[] = [];
          const settled: Promise<unknown>[] = [];
          for (const step of steps) {
            if (step === 'submit') {
              const wasFull = pool.full;
              const g = gate();
              let refused = false;
              const p = pool
                .run(async () => {
                  inside++;
                  maxInside = Math.max(maxInside, inside);
                  try {
                    await g.task();
                  } finally {
                    inside--;
                  }
                })
                .catch((err) => {
                  if (err instanceof HashPoolBusyError) refused = true;
                  else throw err;
                });
              await tick();
              expect(refused).toBe(wasFull);
              if (!refused) live.push(g);
              settled.push(p);
            } else if (live.length) {
              live.splice(step % live.length, 1)[0].open();
              await tick();
            }
            expect(pool.running).toBeLessThanOrEqual(concurrency);
            expect(pool.queued).toBeLessThanOrEqual(queue);
            expect(inside).toBe(pool.running);
          }
          for (const g of live) g.open();
          await Promise.all(settled);
          expect(maxInside).toBeLessThanOrEqual(concurrency);
          expect([pool.running, pool.queued]).toEqual([0, 0]);
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);
});

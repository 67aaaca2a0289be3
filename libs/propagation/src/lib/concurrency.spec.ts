import fc from 'fast-check';
import { Coalescer, Slots } from './concurrency';

const tick = () => new Promise((r) => setImmediate(r));

describe('Slots', () => {
  it('never runs more than its size at once, and runs every task', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 40 }), async (size, delays) => {
        const slots = new Slots(size);
        let active = 0;
        let peak = 0;
        const results = await Promise.all(
          delays.map((d, i) =>
            slots.run(async () => {
              active += 1;
              peak = Math.max(peak, active);
              for (let k = 0; k < d; k++) await tick();
              active -= 1;
              return i;
            }),
          ),
        );
        expect(results).toEqual(delays.map((_, i) => i));
        expect(peak).toBeLessThanOrEqual(size);
      }),
    );
  }, 60_000);

  it('frees the slot of a task that throws', async () => {
    const slots = new Slots(1);
    await expect(slots.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(slots.run(async () => 'next')).resolves.toBe('next');
  }, 60_000);
});

describe('Coalescer', () => {
  it('writes items submitted together in one call and gives each caller its own result', async () => {
    const calls: number[][] = [];
    const c = new Coalescer<number, number>(async (items) => {
      calls.push(items);
      return items.map((x) => x * 10);
    });
    const results = await Promise.all([1, 2, 3].map((x) => c.submit(x)));
    expect(results).toEqual([10, 20, 30]);
    expect(calls).toEqual([[1, 2, 3]]);
  }, 60_000);

  it('groups what arrives during a write into the next one, within maxItems and parallel', async () => {
    let running = 0;
    let peak = 0;
    const sizes: number[] = [];
    const c = new Coalescer<number, number>(
      async (items) => {
        running += 1;
        peak = Math.max(peak, running);
        sizes.push(items.length);
        await tick();
        await tick();
        running -= 1;
        return items;
      },
      { maxItems: 4, parallel: 2 },
    );
    const all: Promise<number>[] = [];
    for (let i = 0; i < 30; i++) {
      all.push(c.submit(i));
      if (i % 5 === 0) await tick();
    }
    expect(await Promise.all(all)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(peak).toBeLessThanOrEqual(2);
    expect(sizes.length).toBeLessThan(30);
  }, 60_000);

  it('with lingerMs, waits that long for company before writing', async () => {
    const calls: number[][] = [];
    const c = new Coalescer<number, number>(
      async (items) => {
        calls.push(items);
        return items;
      },
      { lingerMs: 400 },
    );
    const first = c.submit(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual([]);
    const second = c.submit(2);
    await new Promise((r) => setTimeout(r, 10));
    const third = c.submit(3);
    expect(await Promise.all([first, second, third])).toEqual([1, 2, 3]);
    expect(calls).toEqual([[1, 2, 3]]);
  }, 60_000);

  it('rejects every caller of a failed write, and later writes go on', async () => {
    let fail = true;
    const c = new Coalescer<string, string>(async (items) => {
      if (fail) throw new Error('database down');
      return items;
    });
    const failed = await Promise.allSettled([c.submit('a'), c.submit('b')]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(c.submit('c')).resolves.toBe('c');
  }, 60_000);
});

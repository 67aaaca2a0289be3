import fc from 'fast-check';
import { delayBefore, jittered } from './schedule';

const D15 = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000];

describe('retry schedule (spec D15)', () => {
  it('has ten attempts over about three days, the first at once', () => {
    expect(delayBefore(D15, 0)).toBe(0);
    expect(delayBefore(D15, 10)).toBeUndefined();
    const total = D15.reduce((a, b) => a + b, 0);
    expect(total / 86_400_000).toBeGreaterThan(2.9);
    expect(total / 86_400_000).toBeLessThan(3.2);
  });

  it('jitters every delay within ±20 %', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 ** 9 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (ms, r) => {
        const d = jittered(ms, () => r);
        return d >= Math.floor(ms * 0.8) && d <= Math.ceil(ms * 1.2);
      }),
    );
    expect(jittered(1000, () => 0)).toBe(800);
    expect(jittered(1000, () => 0.999999)).toBe(1200);
  });
});

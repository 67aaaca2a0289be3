import { AFTER_SUCCESS, LockoutPolicy, LockoutState, afterFailure, isLocked } from './lockout';

const policy: LockoutPolicy = { threshold: 5, windowMs: 15 * 60_000, baseMs: 60_000, maxMs: 15 * 60_000 };
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

function fail(state: LockoutState, times: number, start: number, step = 1000) {
  let s = state;
  let locked = false;
  for (let i = 0; i < times; i++) {
    const r = afterFailure(s, policy, at(start + i * step));
    locked = r.lockedNow;
    s = r;
  }
  return { s, locked };
}

describe('login lockout policy (spec D12)', () => {
  it('locks for 1 minute on the 5th failure within 15 minutes, not before', () => {
    const four = fail(AFTER_SUCCESS, 4, 0);
    expect(four.locked).toBe(false);
    expect(isLocked(four.s, at(4000))).toBe(false);
    const five = afterFailure(four.s, policy, at(5000));
    expect(five.lockedNow).toBe(true);
    expect(five.lockedUntil).toEqual(at(65_000));
    expect(isLocked(five, at(64_999))).toBe(true);
    expect(isLocked(five, at(65_000))).toBe(false);
  });

  it('forgets failures older than the window', () => {
    const four = fail(AFTER_SUCCESS, 4, 0);
    const later = afterFailure(four.s, policy, at(15 * 60_000 + 1));
    expect(later.lockedNow).toBe(false);
    expect(later.failedLogins).toBe(1);
  });

  it('doubles each further lock up to 15 minutes', () => {
    let s: LockoutState = AFTER_SUCCESS;
    const durations: number[] = [];
    let t = 0;
    for (let lock = 0; lock < 7; lock++) {
      const r = fail(s, 5, t);
      const lockedAt = t + 4000;
      durations.push(r.s.lockedUntil!.getTime() - at(lockedAt).getTime());
      s = r.s;
      t = r.s.lockedUntil!.getTime() - at(0).getTime();
    }
    expect(durations.map((d) => d / 60_000)).toEqual([1, 2, 4, 8, 15, 15, 15]);
  });

  it('a success resets the streak', () => {
    const locked = fail(AFTER_SUCCESS, 5, 0).s;
    expect(locked.lockCount).toBe(1);
    const again = fail(AFTER_SUCCESS, 5, 200_000).s;
    expect(again.lockedUntil!.getTime() - at(204_000).getTime()).toBe(60_000);
  });
});

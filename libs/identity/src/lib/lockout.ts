/**
 * The per-account brute-force policy of spec D12, as pure functions over the stored state so that
 * tests drive it with an injected clock instead of sleeping.
 */
export interface LockoutPolicy {
  /** Failures within `windowMs` that lock the account. */
  threshold: number;
  windowMs: number;
  /** First lock duration; each further lock in a streak doubles it, up to `maxMs`. */
  baseMs: number;
  maxMs: number;
}

export interface LockoutState {
  failedLogins: number;
  firstFailedAt: Date | null;
  lockedUntil: Date | null;
  lockCount: number;
}

export function isLocked(state: Pick<LockoutState, 'lockedUntil'>, now: Date): boolean {
  return state.lockedUntil !== null && state.lockedUntil.getTime() > now.getTime();
}

/** The state after a wrong password (not called while locked: such failures are not counted). */
export function afterFailure(state: LockoutState, policy: LockoutPolicy, now: Date): LockoutState & { lockedNow: boolean } {
  const inWindow = state.firstFailedAt !== null && now.getTime() - state.firstFailedAt.getTime() < policy.windowMs;
  const failedLogins = (inWindow ? state.failedLogins : 0) + 1;
  const firstFailedAt = inWindow ? state.firstFailedAt : now;
  if (failedLogins < policy.threshold) {
    return { failedLogins, firstFailedAt, lockedUntil: state.lockedUntil, lockCount: state.lockCount, lockedNow: false };
  }
  const duration = Math.min(policy.baseMs * 2 ** Math.min(state.lockCount, 30), policy.maxMs);
  return {
    failedLogins: 0,
    firstFailedAt: null,
    lockedUntil: new Date(now.getTime() + duration),
    lockCount: state.lockCount + 1,
    lockedNow: true,
  };
}

/** A successful login resets the count and the doubling streak. */
export const AFTER_SUCCESS: LockoutState = { failedLogins: 0, firstFailedAt: null, lockedUntil: null, lockCount: 0 };

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

/** A stored lockout record and the reset mark it is compared with (`login_lockouts`, `members.lockout_reset_at`). */
export interface LockoutRecord extends LockoutState {
  updatedAt: Date;
}

/**
 * The state that counts: the record, unless an admin unlock or a password change (the reset mark,
 * written by auth) came after it was written; no record or a voided one is a clean state.
 */
export function effectiveLockout(record: LockoutRecord | null, resetAt: Date | null): LockoutState {
  if (!record || (resetAt !== null && record.updatedAt.getTime() <= resetAt.getTime())) return AFTER_SUCCESS;
  const { failedLogins, firstFailedAt, lockedUntil, lockCount } = record;
  return { failedLogins, firstFailedAt, lockedUntil, lockCount };
}

/** Whether a state holds anything a successful login must clear. */
export function isClean(state: LockoutState): boolean {
  return state.failedLogins === 0 && state.firstFailedAt === null && state.lockedUntil === null && state.lockCount === 0;
}

/**
 * The retry schedule of spec D15: `schedule[n]` is the delay before attempt n+1 (the first is
 * usually 0: at once), jittered by ±20 % so that a slave coming back is not hit by every retry at
 * the same instant. The schedule's length is the number of attempts before a dead letter.
 */
export const JITTER = 0.2;

export function jittered(ms: number, random: () => number = Math.random): number {
  if (ms <= 0) return 0;
  return Math.round(ms * (1 - JITTER + 2 * JITTER * random()));
}

/** Delay before the attempt that follows `attemptsDone` attempts; undefined when none is left. */
export function delayBefore(schedule: number[], attemptsDone: number, random: () => number = Math.random): number | undefined {
  if (attemptsDone >= schedule.length) return undefined;
  return jittered(schedule[attemptsDone], random);
}

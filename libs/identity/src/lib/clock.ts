/** Time as the identity domain sees it; tests inject their own to drive lockouts without sleeping. */
export interface Clock {
  now(): Date;
}
export const CLOCK = Symbol('CLOCK');
export const SYSTEM_CLOCK: Clock = { now: () => new Date() };

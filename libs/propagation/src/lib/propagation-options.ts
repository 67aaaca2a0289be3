export const PROPAGATION_OPTIONS = Symbol('PROPAGATION_OPTIONS');

export interface PropagationClock {
  now(): Date;
}

export interface PropagationOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Delay before each attempt (ms); its length is the number of attempts (spec D15). */
  schedule: number[];
  timeoutMs: number;
  concurrency: number;
  /** 0 = never. */
  autoDisableAfterMs: number;
  repairIntervalMs: number;
  /** Poll interval of the outbox relay when no NOTIFY arrives. */
  relayPollMs?: number;
  /** `SLAVE_URL_ALLOW_PRIVATE`: connect to loopback/private slave addresses too (default false). */
  slaveUrlAllowPrivate?: boolean;
  clock?: PropagationClock;
}

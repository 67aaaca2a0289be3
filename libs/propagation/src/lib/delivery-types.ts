import type { Propagation } from '@switchboard/events';
import type { SlaveAnswer } from './slave-http';

/** A delivery that became the head of its (slave, member) line and must be enqueued. */
export interface ReadyDelivery {
  id: string;
  attempts: number;
  series: number;
  /** The batch job that carries it; null: a job of its own (see DeliveryScheduler). */
  jobId: string | null;
}

/** A delivery as the worker needs it: the row, its slave and the change (the propagator's copy). */
export interface DeliveryRow {
  id: string;
  slave_id: number;
  member_id: number;
  status: string;
  attempts: number;
  series: number;
  job_id: string | null;
  event_id: string;
  slave_url: string;
  slave_enabled: boolean;
  slave_key_sealed: string | null;
  payload: { propagate?: Propagation };
}

/** A successful attempt, recorded together with others (see DeliveryAttempts.recordDelivered). */
export interface DeliveredRecord {
  id: string;
  attemptedAt: Date;
  durationMs: number;
  httpStatus: number;
  ipsStatus: string;
  slaveId: number;
  memberId: number;
}

/** A failed attempt (or a DISABLED answer), recorded alone (see DeliveryAttempts.recordFailure). */
export interface FailedAttempt {
  delivery: Pick<DeliveryRow, 'id' | 'slave_id' | 'member_id' | 'series'>;
  action: string;
  /** This attempt's number, and whether the schedule has no attempt after it. */
  attempt: number;
  last: boolean;
  attemptedAt: Date;
  durationMs: number;
  answer: Exclude<SlaveAnswer, { outcome: 'delivered' }>;
  /** 'retry', 'dead' (a retryable failure on the last attempt) or 'disabled'. */
  outcome: string;
}

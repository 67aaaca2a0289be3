import type { DefaultJobOptions } from 'bullmq';

/**
 * The queue contract in one place. Jobs carry ids only (never keys, hashes or payloads: job data
 * sits in Redis in clear text); everything else is read from PostgreSQL when the job runs.
 */
export const DELIVERY_QUEUE = 'deliveries';
export const DELIVER_JOB = 'deliver';
/** The BullMQ backoff type our worker's backoffStrategy implements (the D15 schedule). */
export const D15_BACKOFF = 'd15';

export interface DeliverJobData {
  deliveryId: string;
  /** Attempts already made before this job (a job re-created after Redis lost it, or an admin retry). */
  attemptOffset: number;
}

export const DELIVERY_JOB_OPTIONS: DefaultJobOptions = {
  removeOnComplete: 1000,
  removeOnFail: 5000,
};

/** Deterministic job id: one live job per delivery and attempt series. */
export function deliveryJobId(deliveryId: string, attemptOffset: number): string {
  return `delivery-${deliveryId}-${attemptOffset}`;
}

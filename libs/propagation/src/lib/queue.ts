import type { DefaultJobOptions } from 'bullmq';
import { DELIVERY_QUEUE_NAME } from '@switchboard/contracts';

/**
 * The queue contract in one place. Jobs carry ids only (never keys, hashes or payloads: job data
 * sits in Redis in clear text); everything else is read from PostgreSQL when the job runs.
 *
 * Two kinds of job: a **batch** carries the next attempt of up to BATCH_SIZE deliveries that became
 * ready together (one job, one read, one write per batch instead of per delivery); a delivery that
 * must be retried leaves its batch for a **single** job of its own, which BullMQ retries with the
 * D15 backoff.
 */
export const DELIVERY_QUEUE = DELIVERY_QUEUE_NAME;
export const DELIVER_JOB = 'deliver';
export const DELIVER_BATCH_JOB = 'deliver-batch';
/** The BullMQ backoff type our worker's backoffStrategy implements (the D15 schedule). */
export const D15_BACKOFF = 'd15';
/** Deliveries per batch job. */
export const BATCH_SIZE = 50;

export interface DeliverJobData {
  deliveryId: string;
  /** Attempts already made before this job (a job re-created after Redis lost it, or a retry out of a batch). */
  attemptOffset: number;
}

export interface DeliverBatchJobData {
  deliveryIds: string[];
}

export const DELIVERY_JOB_OPTIONS: DefaultJobOptions = {
  removeOnComplete: 1000,
  removeOnFail: 5000,
};

import type { DefaultJobOptions } from 'bullmq';

/**
 * The queue contract in one place. Jobs carry ids only (never keys, hashes or payloads: job data
 * sits in Redis in clear text); everything else is read from PostgreSQL when the job runs.
 */
export const DELIVERY_QUEUE = 'deliveries';
export const DELIVER_JOB = 'deliver';

export interface DeliverJobData {
  deliveryId: string;
}

export const DELIVERY_JOB_OPTIONS: DefaultJobOptions = {
  removeOnComplete: 1000,
  removeOnFail: 5000,
};

import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { D15_BACKOFF, DELIVER_BATCH_JOB, DELIVER_JOB, DELIVERY_JOB_OPTIONS, DELIVERY_QUEUE, DeliverBatchJobData, DeliverJobData } from './queue';
import type { ReadyDelivery } from './delivery-types';

/** The live job of a delivery: its batch, or its own job of the current series. */
export function jobIdOf(d: { id: string; series: number; jobId?: string | null }): string {
  return d.jobId ?? `delivery-${d.id}-${d.series}`;
}

/**
 * A batch job that fails as a whole (PostgreSQL unreachable mid-batch, say) is run again a few
 * times; each delivery of it is re-checked, so nothing is sent twice for one attempt once recorded.
 */
const BATCH_ATTEMPTS = 5;

/** Puts ready deliveries on the BullMQ queue: ids only, the D15 schedule as BullMQ backoff. */
@Injectable()
export class DeliveryScheduler {
  constructor(
    @InjectQueue(DELIVERY_QUEUE) readonly queue: Queue<DeliverJobData | DeliverBatchJobData>,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {}

  /**
   * Deliveries that carry a batch job id go out in that batch; the others in their own job, whose
   * next attempt is `delayMs` away (or the schedule's first delay for a delivery never tried).
   */
  async enqueue(ready: ReadyDelivery[], delayMs = 0): Promise<void> {
    if (ready.length === 0) return;
    const total = this.options.schedule.length;
    const batches = new Map<string, string[]>();
    const jobs: { name: string; data: DeliverJobData | DeliverBatchJobData; opts: JobsOptions }[] = [];
    for (const d of ready) {
      if (d.jobId) {
        const ids = batches.get(d.jobId) ?? [];
        ids.push(d.id);
        batches.set(d.jobId, ids);
        continue;
      }
      const offset = Math.min(d.attempts, total - 1);
      jobs.push({
        name: DELIVER_JOB,
        data: { deliveryId: d.id, attemptOffset: offset },
        opts: {
          jobId: jobIdOf(d),
          attempts: total - offset,
          backoff: { type: D15_BACKOFF },
          delay: offset === 0 ? Math.max(delayMs, this.options.schedule[0]) : delayMs,
        },
      });
    }
    for (const [jobId, deliveryIds] of batches) {
      jobs.push({
        name: DELIVER_BATCH_JOB,
        data: { deliveryIds },
        opts: { jobId, attempts: BATCH_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, delay: Math.max(delayMs, this.options.schedule[0]) },
      });
    }
    await this.queue.addBulk(jobs.map((j) => ({ ...j, opts: { ...DELIVERY_JOB_OPTIONS, ...j.opts } })));
  }

  /** Whether the delivery's current job is still queued, delayed or running. */
  async hasLiveJob(d: { id: string; series: number; jobId?: string | null }): Promise<boolean> {
    const job = await this.queue.getJob(jobIdOf(d));
    if (!job) return false;
    const state = await job.getState();
    return state === 'waiting' || state === 'delayed' || state === 'active' || state === 'prioritized' || state === 'waiting-children';
  }
}

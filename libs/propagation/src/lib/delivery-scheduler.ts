import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { D15_BACKOFF, DELIVER_JOB, DELIVERY_QUEUE, DeliverJobData } from './queue';
import type { ReadyDelivery } from './delivery-store';

/** The live job of a delivery's current series. */
export function jobIdOf(d: { id: string; series: number }): string {
  return `delivery-${d.id}-${d.series}`;
}

/** Puts ready deliveries on the BullMQ queue: ids only, the D15 schedule as BullMQ backoff. */
@Injectable()
export class DeliveryScheduler {
  constructor(
    @InjectQueue(DELIVERY_QUEUE) readonly queue: Queue<DeliverJobData>,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {}

  async enqueue(ready: ReadyDelivery[], delayMs = 0): Promise<void> {
    if (ready.length === 0) return;
    const total = this.options.schedule.length;
    await this.queue.addBulk(
      ready.map((d) => {
        const offset = Math.min(d.attempts, total - 1);
        return {
          name: DELIVER_JOB,
          data: { deliveryId: d.id, attemptOffset: offset },
          opts: {
            jobId: jobIdOf(d),
            attempts: total - offset,
            backoff: { type: D15_BACKOFF },
            delay: offset === 0 ? Math.max(delayMs, this.options.schedule[0]) : delayMs,
            removeOnComplete: 1000,
            removeOnFail: 5000,
          },
        };
      }),
    );
  }

  /** Whether the delivery's current job is still queued, delayed or running. */
  async hasLiveJob(d: { id: string; series: number }): Promise<boolean> {
    const job = await this.queue.getJob(jobIdOf(d));
    if (!job) return false;
    const state = await job.getState();
    return state === 'waiting' || state === 'delayed' || state === 'active' || state === 'prioritized' || state === 'waiting-children';
  }
}

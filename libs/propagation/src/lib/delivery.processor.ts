import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Job, UnrecoverableError } from 'bullmq';
import { withTimeout } from '@switchboard/runtime';
import { DELIVERY_QUEUE, DeliverJobData } from './queue';

/**
 * The BullMQ worker that delivers changes to slaves. Delivery itself (outbox relay, IPS request,
 * retry schedule, dead letters) is issue #4; until then no job is ever enqueued, and a job that
 * shows up anyway is failed without retry rather than silently "completed".
 */
@Processor(DELIVERY_QUEUE, { concurrency: 16 })
export class DeliveryProcessor extends WorkerHost {
  async process(job: Job<DeliverJobData>): Promise<void> {
    throw new UnrecoverableError(`delivery ${job.data.deliveryId}: propagation is not implemented yet`);
  }
}

/** Readiness of the propagator: its BullMQ worker is running and connected. */
@Injectable()
export class WorkerCheck {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly processor: DeliveryProcessor,
  ) {}

  async check() {
    const indicator = this.health.check('worker');
    const worker = this.processor.worker;
    if (!worker?.isRunning()) return indicator.down({ message: 'worker not running' });
    try {
      const client = await withTimeout(worker.client, 2000, 'worker connection not ready');
      return client.status === 'ready' ? indicator.up() : indicator.down({ message: `worker connection ${client.status}` });
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    }
  }
}

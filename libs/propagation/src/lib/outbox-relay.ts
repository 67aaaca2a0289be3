import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OutboxWaker } from '@switchboard/events';
import { DeliveryScheduler } from './delivery-scheduler';
import { DeliveryStore } from './delivery-store';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { PropagationMetrics } from './propagation-metrics';

/**
 * The propagator's outbox relay (spec D15): claims committed outbox events (FOR UPDATE SKIP LOCKED,
 * woken by LISTEN/NOTIFY, with a short poll as fallback), creates the deliveries and enqueues those
 * at the head of their line. A repair pass re-enqueues what Redis lost, resumes parked deliveries
 * of re-enabled slaves and disables slaves that have failed for too long.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly waker: OutboxWaker;
  private repairTimer?: NodeJS.Timeout;
  private stopped = false;
  private repairing?: Promise<void>;

  constructor(
    private readonly store: DeliveryStore,
    private readonly scheduler: DeliveryScheduler,
    private readonly metrics: PropagationMetrics,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {
    this.waker = new OutboxWaker({
      databaseUrl: options.databaseUrl,
      applicationName: 'switchboard-propagator-relay',
      pollMs: options.relayPollMs ?? 1000,
      work: async () => {
        const { events, ready: inTx, members } = await this.store.relayBatch(200);
        if (events === 0) return false;
        // Again after the commit: a worker finishing a delivery of the same line meanwhile could not
        // see the new deliveries, and our promote inside the transaction still saw it in flight.
        const ready = [...inTx, ...(members.length ? await this.store.promote(this.store.db.manager, { members }) : [])];
        await this.scheduler.enqueue(ready).catch((err) => this.logger.warn(`enqueue failed, the repair pass will retry: ${(err as Error).message}`));
        return true;
      },
      logger: this.logger,
    });
  }

  onApplicationBootstrap() {
    this.waker.start();
    this.repairTimer = setInterval(() => void this.repair(), this.options.repairIntervalMs);
    this.repairTimer.unref();
    void this.repair();
  }

  async onApplicationShutdown() {
    this.stopped = true;
    if (this.repairTimer) clearInterval(this.repairTimer);
    await Promise.all([this.waker.stop(), this.repairing]);
  }

  /** Relay now. */
  kick() {
    this.waker.kick();
  }

  /** One repair pass (also run on a timer). */
  repair(): Promise<void> {
    if (this.repairing || this.stopped) return this.repairing ?? Promise.resolve();
    this.repairing = (async () => {
      try {
        await this.store.unpark();
        const disabled = await this.store.autoDisable(this.options.autoDisableAfterMs);
        if (disabled.length) this.logger.warn(`auto-disabled slaves ${disabled.join(', ')}: every delivery failed for too long`);
        await this.store.eraseDeliveredSecrets();
        const heads = await this.store.db.transaction((m) => this.store.promote(m));
        await this.scheduler.enqueue(heads);
        // Ready deliveries whose job should have run by now: re-create the job if Redis lost it.
        const grace = Math.max(10_000, this.options.repairIntervalMs);
        for (const d of await this.store.overdue(grace)) {
          if (await this.scheduler.hasLiveJob(d)) continue;
          const renewed = await this.store.bumpSeries(d.id, d.series);
          if (renewed) await this.scheduler.enqueue([renewed]);
        }
        await this.metrics.refreshLag(this.store);
      } catch (err) {
        this.logger.warn(`repair pass failed, will retry: ${(err as Error).message}`);
      } finally {
        this.repairing = undefined;
      }
    })();
    return this.repairing;
  }
}

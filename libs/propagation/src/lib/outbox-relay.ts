import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OutboxWaker } from '@switchboard/events';
import { ChangeRelay } from './change-relay';
import { DeliveryLines } from './delivery-lines';
import { DeliveryMaintenance } from './delivery-maintenance';
import { DeliveryScheduler } from './delivery-scheduler';
import { SlaveDisabler } from './slave-disabler';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { PropagationMetrics } from './propagation-metrics';

/**
 * The propagator's outbox relay (spec D15): relays committed outbox events (woken by LISTEN/NOTIFY,
 * with a short poll as fallback), creates the deliveries and enqueues those at the head of their
 * line. A repair pass re-enqueues what Redis lost, parks the deliveries of disabled slaves, resumes
 * those of re-enabled slaves and has auth disable slaves that have failed for too long.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly waker: OutboxWaker;
  private repairTimer?: NodeJS.Timeout;
  private stopped = false;
  private repairing?: Promise<void>;

  constructor(
    private readonly relay: ChangeRelay,
    private readonly lines: DeliveryLines,
    private readonly maintenance: DeliveryMaintenance,
    private readonly disabler: SlaveDisabler,
    private readonly scheduler: DeliveryScheduler,
    private readonly metrics: PropagationMetrics,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {
    this.waker = new OutboxWaker({
      databaseUrl: options.databaseUrl,
      applicationName: 'switchboard-propagator-relay',
      pollMs: options.relayPollMs ?? 1000,
      work: async () => {
        const { events, ready } = await this.relay.relayBatch(200);
        if (events === 0) return false;
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
        await this.relay.advanceFloor();
        await this.maintenance.parkDisabledSlaves();
        await this.maintenance.discardDeletedSlaves();
        await this.maintenance.unpark();
        const disabled: number[] = [];
        const after = this.options.autoDisableAfterMs;
        for (const id of await this.maintenance.failingSlaves(after)) {
          const days = Math.round((after / 86_400_000) * 10) / 10;
          if (await this.disabler.disable(id, `every delivery failed for ${days} days`)) disabled.push(id);
        }
        if (disabled.length) this.logger.warn(`auto-disabled slaves ${disabled.join(', ')}: every delivery failed for too long`);
        await this.maintenance.eraseDeliveredSecrets();
        const heads = await this.lines.promote();
        await this.scheduler.enqueue(heads);
        // Ready deliveries whose job should have run by now: re-create the job if Redis lost it.
        const grace = Math.max(10_000, this.options.repairIntervalMs);
        for (const d of await this.maintenance.overdue(grace)) {
          if (await this.scheduler.hasLiveJob(d)) continue;
          const renewed = await this.maintenance.bumpSeries(d.id, d.series);
          if (renewed) await this.scheduler.enqueue([renewed]);
        }
        this.metrics.setLag(await this.relay.lagSeconds());
      } catch (err) {
        this.logger.warn(`repair pass failed, will retry: ${(err as Error).message}`);
      } finally {
        this.repairing = undefined;
      }
    })();
    return this.repairing;
  }
}

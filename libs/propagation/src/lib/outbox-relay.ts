import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { OUTBOX_CHANNEL } from '@switchboard/events';
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
  private listener?: Client;
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private again = false;
  private stopped = false;
  private idle: Promise<void> = Promise.resolve();
  private repairing?: Promise<void>;

  constructor(
    private readonly store: DeliveryStore,
    private readonly scheduler: DeliveryScheduler,
    private readonly metrics: PropagationMetrics,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {}

  onApplicationBootstrap() {
    const poll = setInterval(() => this.kick(), this.options.relayPollMs ?? 1000);
    const repair = setInterval(() => void this.repair(), this.options.repairIntervalMs);
    poll.unref();
    repair.unref();
    this.timers.push(poll, repair);
    void this.listen();
    this.kick();
    void this.repair();
  }

  async onApplicationShutdown() {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.listener?.end().catch(() => undefined);
    await Promise.all([this.idle, this.repairing]);
  }

  private async listen() {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.options.databaseUrl, application_name: 'switchboard-propagator-listener' });
    client.on('notification', () => this.kick());
    client.on('error', () => undefined);
    client.on('end', () => {
      if (!this.stopped) setTimeout(() => void this.listen(), 1000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.listener = client;
      this.kick();
    } catch (err) {
      this.logger.warn(`outbox LISTEN failed, polling meanwhile: ${(err as Error).message}`);
      await client.end().catch(() => undefined);
    }
  }

  /** Relay now (coalesces overlapping calls). */
  kick() {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            if (this.stopped) break;
            const { events, ready } = await this.store.relayBatch(200);
            if (events === 0) break;
            await this.scheduler.enqueue(ready).catch((err) =>
              this.logger.warn(`enqueue failed, the repair pass will retry: ${(err as Error).message}`),
            );
          }
        } while (this.again && !this.stopped);
      } catch (err) {
        this.logger.warn(`outbox relay failed, will retry: ${(err as Error).message}`);
      } finally {
        this.running = false;
      }
    })();
  }

  /** One repair pass (also run on a timer). */
  repair(): Promise<void> {
    if (this.repairing || this.stopped) return this.repairing ?? Promise.resolve();
    this.repairing = (async () => {
      try {
        const disabled = await this.store.autoDisable(this.options.autoDisableAfterMs);
        if (disabled.length) this.logger.warn(`auto-disabled slaves ${disabled.join(', ')}: every delivery failed for too long`);
        await this.store.unpark();
        const heads = await this.store.db.transaction((m) => this.store.promote(m));
        await this.scheduler.enqueue(heads);
        // Ready deliveries whose job should have run by now: re-create the job if Redis lost it.
        const grace = Math.max(10_000, this.options.repairIntervalMs);
        for (const d of await this.store.overdue(grace)) {
          if (await this.scheduler.hasLiveJob(d)) continue;
          const renewed = await this.store.bumpSeries(d.id);
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

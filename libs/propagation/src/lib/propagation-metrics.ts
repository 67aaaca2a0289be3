import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { InjectMetrics, ServiceMetrics } from '@switchboard/runtime';

/** Deliveries by outcome and slave, attempts, outbox lag, queue depth (issue #4). */
@Injectable()
export class PropagationMetrics {
  readonly deliveries: Counter<'outcome' | 'slave'>;
  readonly attempts: Counter<'outcome' | 'slave'>;
  readonly outboxLag: Gauge;
  readonly queueDepth: Gauge<'state'>;
  private depthSource?: () => Promise<Record<string, number>>;

  constructor(@InjectMetrics() metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.deliveries = new Counter({ name: 'switchboard_deliveries_total', help: 'Deliveries that reached a final outcome, by outcome and slave id', labelNames: ['outcome', 'slave'], registers });
    this.attempts = new Counter({ name: 'switchboard_delivery_attempts_total', help: 'Delivery attempts, by outcome and slave id', labelNames: ['outcome', 'slave'], registers });
    this.outboxLag = new Gauge({ name: 'switchboard_outbox_lag_seconds', help: 'Age of the oldest outbox event not yet turned into deliveries', registers });
    const self = this;
    this.queueDepth = new Gauge({
      name: 'switchboard_delivery_queue_jobs',
      help: 'Jobs in the delivery queue, by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await self.depthSource?.().catch(() => undefined);
        for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
      },
    });
  }

  countAttempt(outcome: string, slaveId: number) {
    this.attempts.inc({ outcome, slave: String(slaveId) });
  }

  countDelivery(outcome: string, slaveId: number) {
    this.deliveries.inc({ outcome, slave: String(slaveId) });
  }

  setDepthSource(source: () => Promise<Record<string, number>>) {
    this.depthSource = source;
  }

  setLag(seconds: number) {
    this.outboxLag.set(seconds);
  }
}

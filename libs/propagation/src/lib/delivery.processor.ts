import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Job, MinimalJob } from 'bullmq';
import { SecretBox } from '@switchboard/crypto';
import { Propagation, SEALED_PARAM_PURPOSE, appendToOutbox, newEvent } from '@switchboard/events';
import { withTimeout } from '@switchboard/runtime';
import { DeliveryScheduler, jobIdOf } from './delivery-scheduler';
import { DeliveryStore, ReadyDelivery } from './delivery-store';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { PropagationMetrics } from './propagation-metrics';
import { DELIVERY_QUEUE, DeliverJobData } from './queue';
import { JITTER, delayBefore } from './schedule';
import { SlaveAnswer, callSlave } from './slave-http';
import { slaveRequestUrl } from './slave-request';

export const SLAVE_KEY_PURPOSE = 'slave-key';

interface DeliveryRow {
  id: string;
  seq: string;
  slave_id: number;
  member_id: number;
  action: string;
  fields: string[];
  status: string;
  attempts: number;
  series: number;
  event_id: string;
  slave_url: string;
  slave_enabled: boolean;
  slave_key_sealed: string | null;
  payload: { propagate?: Propagation };
}

/** A retryable failure: BullMQ schedules the next attempt with the D15 backoff. */
export class DeliveryRetry extends Error {}

/**
 * The schedule the worker's backoff strategy reads. Set by PropagationWorkerModule.forRoot before
 * the worker exists (decorator options are static, the schedule is configuration).
 */
export const activeSchedule: { delays: number[] } = { delays: [0] };

/** BullMQ custom backoff: the D15 delay before the next attempt, with ±20 % jitter. */
export function d15Backoff(attemptsMade: number, _type?: string, _err?: Error, job?: MinimalJob): number {
  const done = ((job?.data as DeliverJobData | undefined)?.attemptOffset ?? 0) + attemptsMade;
  return delayBefore(activeSchedule.delays, done) ?? 0;
}

/**
 * The BullMQ worker that delivers one change to one slave (spec D15): the exact IPS request, the
 * answer classified, the attempt recorded; delivered / dead / superseded end the delivery and let
 * the next one of its (slave, member) line go; `DISABLED` parks everything of that slave.
 */
@Processor(DELIVERY_QUEUE, {
  concurrency: 64,
  // A job whose worker died (kill -9) comes back after at most ~30 s.
  stalledInterval: 15_000,
  maxStalledCount: 10,
  settings: { backoffStrategy: d15Backoff },
})
export class DeliveryProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger('Propagation');

  constructor(
    private readonly store: DeliveryStore,
    private readonly scheduler: DeliveryScheduler,
    private readonly metrics: PropagationMetrics,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {
    super();
  }

  onApplicationBootstrap() {
    this.worker.concurrency = this.options.concurrency;
    // A job's lock outlives its longest legitimate run (the HTTP timeout) with room to spare; a worker
    // that died (kill -9) loses it after this, and the stalled-job check hands the job to another.
    this.worker.opts.lockDuration = Math.max(10_000, this.options.timeoutMs * 2 + 5_000);
    this.metrics.setDepthSource(() => this.scheduler.queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'completed'));
  }

  async process(job: Job<DeliverJobData>): Promise<void> {
    const rows: DeliveryRow[] = await this.store.db.query(
      `SELECT d.id, d.seq, d.slave_id, d.member_id, d.action, d.fields, d.status, d.attempts, d.series, d.event_id,
              s.url AS slave_url, s.enabled AS slave_enabled, s.slave_key_sealed, o.payload
         FROM deliveries d
         JOIN slaves s ON s.id = d.slave_id
         JOIN outbox_events o ON o.event_id = d.event_id
        WHERE d.id = $1`,
      [job.data.deliveryId],
    );
    const d = rows[0];
    // A job of an older series, or for a delivery already final: nothing to do (idempotent).
    if (!d || d.status !== 'ready' || jobIdOf({ id: d.id, series: d.series }) !== job.id) return;
    if (!d.slave_enabled || !d.slave_key_sealed || !d.payload.propagate) {
      await this.store.db.query(`UPDATE deliveries SET status = 'parked', updated_at = $2 WHERE id = $1 AND status = 'ready'`, [d.id, this.store.now()]);
      return;
    }
    // Only a retried series can be older than a value delivered since (in-order delivery otherwise).
    if (d.series > 0 && (await this.store.isSuperseded(this.store.db.manager, { id: d.id, slaveId: d.slave_id, memberId: d.member_id, seq: d.seq, fields: d.fields }))) {
      const next = await this.store.db.transaction((m) => this.store.finish(m, d.id, 'superseded', 'a newer value was already delivered'));
      this.metrics.deliveries.inc({ outcome: 'superseded', slave: String(d.slave_id) });
      await this.scheduler.enqueue(next);
      return;
    }

    const { action, params, sealed } = d.payload.propagate;
    const clear = params.map(([name, value]): [string, string] => [name, sealed.includes(name) ? this.box.open(value, SEALED_PARAM_PURPOSE) : value]);
    const url = slaveRequestUrl(d.slave_url, this.box.open(d.slave_key_sealed, SLAVE_KEY_PURPOSE), action, clear);
    const started = Date.now();
    const attemptedAt = this.store.now();
    const answer = await callSlave(url, this.options.timeoutMs);
    const attempt = d.attempts + 1;
    const last = attempt >= this.options.schedule.length;
    const outcome = answer.outcome === 'retry' ? (last ? 'dead' : 'retry') : answer.outcome;
    this.metrics.attempts.inc({ outcome, slave: String(d.slave_id) });

    const attemptRow = [d.id, attemptedAt, Date.now() - started, answer.httpStatus, answer.ipsStatus, answer.outcome === 'retry' ? answer.error : null, outcome];
    let next: ReadyDelivery[] | null;
    if (answer.outcome === 'delivered') {
      // The common case in one statement: attempt, delivery, slave bookkeeping (the slave row is only
      // written when its state changes or once a second, so busy slaves do not serialize on it).
      const now = this.store.now();
      const [{ has_next }] = (await this.store.db.query(
        `WITH attempt AS (
           INSERT INTO delivery_attempts (delivery_id, attempted_at, duration_ms, http_status, ips_status, error, outcome)
           VALUES ($1, $2, $3, $4, $5, $6, $7)),
         slave AS (
           UPDATE slaves SET last_success_at = $9, failing_since = NULL
            WHERE id = $10 AND (failing_since IS NOT NULL OR last_success_at IS NULL OR last_success_at < $9::timestamptz - interval '1 second')),
         done AS (
           UPDATE deliveries SET status = 'delivered', attempts = $8, finished_at = $9, updated_at = $9, next_attempt_at = NULL
            WHERE id = $1 AND status = 'ready')
         SELECT EXISTS (SELECT 1 FROM deliveries WHERE slave_id = $10 AND (member_id = $11 OR blocking_member_id = $11) AND status = 'waiting') AS has_next`,
        [...attemptRow, attempt, now, d.slave_id, d.member_id],
      )) as { has_next: boolean }[];
      // Usually nobody waits behind this one; when someone does, the next of the line goes now.
      next = has_next ? await this.store.promote(this.store.db.manager, { members: [d.member_id], slaves: [d.slave_id] }) : [];
    } else {
      next = await this.store.db.transaction(async (m) => {
        await m.query(
          `INSERT INTO delivery_attempts (delivery_id, attempted_at, duration_ms, http_status, ips_status, error, outcome)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          attemptRow,
        );
        const now = this.store.now();
        if (answer.outcome === 'disabled') {
          await m.query(`UPDATE deliveries SET attempts = $2 WHERE id = $1`, [d.id, attempt]);
          await this.store.disableSlave(m, d.slave_id, answer.httpStatus === 410 ? 'slave answered HTTP 410' : 'slave answered DISABLED');
          return [];
        }
        await m.query(`UPDATE slaves SET failing_since = coalesce(failing_since, $2) WHERE id = $1`, [d.slave_id, attemptedAt]);
        if (last) {
          await m.query(`UPDATE deliveries SET attempts = $2 WHERE id = $1`, [d.id, attempt]);
          await appendToOutbox(m, newEvent('delivery_dead', 'propagator', { slaveId: d.slave_id, memberId: d.member_id, data: { delivery_id: d.id, action, attempts: attempt, error: answer.error } }, now));
          return this.store.finish(m, d.id, 'dead', answer.error);
        }
        // The latest the next attempt can be due (BullMQ adds up to +20 % jitter): the repair pass
        // treats the delivery as overdue only after that, so a live delayed job is not mistaken for a lost one.
        const delay = Math.ceil(this.options.schedule[Math.min(attempt, this.options.schedule.length - 1)] * (1 + JITTER));
        await m.query(`UPDATE deliveries SET attempts = $2, last_error = $3, next_attempt_at = $4, updated_at = $5 WHERE id = $1`, [
          d.id,
          attempt,
          answer.error,
          new Date(now.getTime() + delay),
          now,
        ]);
        return null;
      });
    }

    if (next === null) throw new DeliveryRetry((answer as Extract<SlaveAnswer, { outcome: 'retry' }>).error);
    if (answer.outcome !== 'retry' || last) this.metrics.deliveries.inc({ outcome, slave: String(d.slave_id) });
    await this.scheduler.enqueue(next);
  }

  queueCounts() {
    return this.scheduler.queue.getJobCounts('active');
  }

  /**
   * Worker-level errors (Redis went away, a job's keys vanished with a Redis restart): logged, never
   * left unhandled (an unhandled 'error' event would end the process). PostgreSQL still holds the
   * delivery, and the repair pass re-creates its job.
   */
  @OnWorkerEvent('error')
  onError(err: Error) {
    this.logger.warn(`worker error: ${err.message}`);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<DeliverJobData> | undefined, err: Error) {
    if (!(err instanceof DeliveryRetry)) this.logger.error(`delivery ${job?.data.deliveryId} job failed: ${err.message}`);
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
      if (client.status !== 'ready') return indicator.down({ message: `worker connection ${client.status}` });
      // The worker's own client blocks on BZPOPMIN; ask the queue's client whether Redis answers.
      await withTimeout(this.processor.queueCounts(), 2000, 'Redis does not answer the worker');
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    }
  }
}

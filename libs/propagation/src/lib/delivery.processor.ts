import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Job, MinimalJob } from 'bullmq';
import { SLAVE_KEY_PURPOSE, SecretBox } from '@switchboard/crypto';
import { SEALED_PARAM_PURPOSE } from '@switchboard/events';
import { withTimeout } from '@switchboard/runtime';
import { DeliveryScheduler, jobIdOf } from './delivery-scheduler';
import { Coalescer, Slots } from './concurrency';
import { DeliveryAttempts } from './delivery-attempts';
import { DeliveryLines } from './delivery-lines';
import type { DeliveredRecord, DeliveryRow, ReadyDelivery } from './delivery-types';
import { SlaveDisabler } from './slave-disabler';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { PropagationMetrics } from './propagation-metrics';
import { DELIVER_BATCH_JOB, DELIVERY_QUEUE, DeliverBatchJobData, DeliverJobData } from './queue';
import { delayBefore } from './schedule';
import { RequestTarget, SlaveAnswer, SlaveHttp, slaveTarget, withQuery } from './slave-http';
import { PreparedChange, prepareChange, preparedQuery } from './slave-request';

/** `make(key)`, computed once per key; the map is emptied when it reaches 10 000 entries. */
function remember<K, V>(map: Map<K, V>, key: K, make: (key: K) => V): V {
  const hit = map.get(key);
  if (hit !== undefined || map.has(key)) return hit as V;
  if (map.size >= 10_000) map.clear();
  const value = make(key);
  map.set(key, value);
  return value;
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
 * The BullMQ worker that delivers changes to slaves (spec D15): the exact IPS request, the answer
 * classified, the attempt recorded; delivered / dead / superseded end the delivery and let the next
 * one of its (slave, member) line go; `DISABLED` has auth disable the slave and parks everything of it.
 *
 * A batch job carries the next attempt of up to BATCH_SIZE deliveries: one read for all of them,
 * their slave calls in parallel (bounded by PROPAGATION_CONCURRENCY across the process), successes
 * written in groups as they come (one statement for many). A delivery whose attempt fails leaves
 * its batch for a job of its own, which BullMQ retries on the D15 schedule.
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
  private readonly slots: Slots;
  private readonly delivered: Coalescer<DeliveredRecord, boolean>;
  /** Opened slave keys by sealed value (opening one per delivery costs more than the rest of it). */
  private readonly slaveKeys = new Map<string, string>();
  private readonly slaveTargets = new Map<string, RequestTarget | null>();

  constructor(
    private readonly attempts: DeliveryAttempts,
    private readonly lines: DeliveryLines,
    private readonly disabler: SlaveDisabler,
    private readonly scheduler: DeliveryScheduler,
    private readonly metrics: PropagationMetrics,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
    private readonly http: SlaveHttp,
  ) {
    super();
    this.slots = new Slots(Math.max(1, options.concurrency));
    // One write at a time, gathering what came in over 20 ms or during the previous write: per
    // row, PostgreSQL pays several times less in statements of hundreds than in statements of ten.
    this.delivered = new Coalescer(async (records) => {
      const hasNext = await this.attempts.recordDelivered(records);
      return records.map((r) => hasNext.get(r.id) ?? false);
    }, { parallel: 1, lingerMs: 20, maxItems: 1000 });
  }

  onApplicationBootstrap() {
    this.worker.concurrency = this.options.concurrency;
    // A job's lock outlives its longest legitimate run (the HTTP timeout) with room to spare; a worker
    // that died (kill -9) loses it after this, and the stalled-job check hands the job to another.
    this.worker.opts.lockDuration = Math.max(10_000, this.options.timeoutMs * 2 + 5_000);
    this.metrics.setDepthSource(() => this.scheduler.queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'completed'));
  }

  async process(job: Job<DeliverJobData | DeliverBatchJobData>): Promise<void> {
    if (job.name === DELIVER_BATCH_JOB) {
      const rows = await this.attempts.load((job.data as DeliverBatchJobData).deliveryIds);
      // Only the deliveries this batch still carries (not finished, not moved to a job of their own).
      const mine = rows.filter((d) => d.status === 'ready' && d.job_id === job.id);
      const changes = new Map<string, PreparedChange>();
      const rerun = isRerun(job);
      const results = await Promise.allSettled(mine.map((d) => this.attempt(d, 'batch', changes, rerun)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      // The batch runs again; what was recorded meanwhile is skipped then.
      if (failed) throw failed.reason;
      return;
    }
    const [d] = await this.attempts.load([(job.data as DeliverJobData).deliveryId]);
    // A job of an older series, or for a delivery already final: nothing to do (idempotent).
    if (!d || d.status !== 'ready' || jobIdOf({ id: d.id, series: d.series, jobId: d.job_id }) !== job.id) return;
    // A job of its own is a retry, a delivery moved out of its batch or one the repair pass
    // re-created: another run of the same delivery may still be in flight.
    await this.attempt(d, 'single', new Map(), true);
  }

  /** One attempt of one delivery; in a single job a retryable failure throws DeliveryRetry (BullMQ backoff). */
  private async attempt(d: DeliveryRow, mode: 'batch' | 'single', changes: Map<string, PreparedChange>, recheck: boolean): Promise<void> {
    if (!d.slave_enabled || !d.slave_key_sealed || !d.payload.propagate) {
      await this.attempts.park(d.id);
      return;
    }
    // Only a retried series can be older than a value delivered since (in-order delivery otherwise).
    const superseded = d.series > 0 ? await this.attempts.supersedeIfNewer(d.id) : null;
    if (superseded) {
      this.metrics.countDelivery('superseded', d.slave_id);
      await this.scheduler.enqueue(superseded);
      return;
    }

    const { action } = d.payload.propagate;
    let change = changes.get(d.event_id);
    if (!change) {
      const { params, sealed } = d.payload.propagate;
      change = prepareChange(action, params.map(([name, value]): [string, string] => [name, sealed.includes(name) ? this.box.open(value, SEALED_PARAM_PURPOSE) : value]));
      changes.set(d.event_id, change);
    }
    const base = this.slaveTarget(d.slave_url);
    const target = base && withQuery(base, preparedQuery(this.slaveKey(d.slave_key_sealed), change));
    const sent = await this.slots.run(async () => {
      // Waiting for a slot can take long under a backlog: a run that may overlap another checks,
      // once it may send, that the delivery is still its own (DeliveryAttempts.stillOwned).
      if (recheck && !(await this.attempts.stillOwned(d))) return null;
      const started = Date.now();
      const at = this.attempts.now();
      const result = await this.http.call(target, this.options.timeoutMs);
      return { answer: result, attemptedAt: at, durationMs: Date.now() - started };
    });
    if (!sent) {
      this.logger.debug(`delivery ${d.id}: finished or given a new job by another run meanwhile; not sent again`);
      return;
    }
    const { answer, attemptedAt, durationMs } = sent;
    if (answer.outcome === 'retry' && answer.refused) {
      // Nothing was sent: the outbound policy refused the slave's address (or a redirect's).
      this.logger.warn(`delivery ${d.id} to slave ${d.slave_id} refused by the outbound policy (${answer.refused}): ${answer.error}`);
    }
    const attempt = d.attempts + 1;
    const last = attempt >= this.options.schedule.length;
    const outcome = answer.outcome === 'retry' ? (last ? 'dead' : 'retry') : answer.outcome;
    this.metrics.countAttempt(outcome, d.slave_id);

    let next: ReadyDelivery[] | null;
    let stale = false;
    if (answer.outcome === 'delivered') {
      const hasNext = await this.delivered.submit({
        id: d.id,
        attemptedAt,
        durationMs,
        httpStatus: answer.httpStatus,
        ipsStatus: answer.ipsStatus,
        slaveId: d.slave_id,
        memberId: d.member_id,
      });
      // Usually nobody waits behind this one; when someone does, the next of the line goes now.
      next = hasNext ? await this.lines.promote({ members: [d.member_id], slaves: [d.slave_id] }) : [];
    } else {
      let disable: string | null;
      ({ next, stale, disable } = await this.attempts.recordFailure({ delivery: d, action, attempt, last, attemptedAt, durationMs, answer, outcome }));
      // DISABLED / HTTP 410: auth disables the slave, then its pending deliveries are parked.
      if (disable) await this.disabler.disable(d.slave_id, disable);
    }

    if (next === null) {
      const error = (answer as Extract<SlaveAnswer, { outcome: 'retry' }>).error;
      if (mode === 'single') throw new DeliveryRetry(error);
      // Out of the batch: its own job, due after the schedule's next delay (jittered), then BullMQ's backoff.
      await this.scheduler.enqueue([{ id: d.id, attempts: attempt, series: d.series, jobId: null }], delayBefore(this.options.schedule, attempt) ?? 0);
      return;
    }
    if (!stale && (answer.outcome !== 'retry' || last)) this.metrics.countDelivery(outcome, d.slave_id);
    await this.scheduler.enqueue(next);
  }

  /** Slave URLs parsed once (see slaveTarget), by URL. */
  private slaveTarget(url: string): RequestTarget | null {
    return remember(this.slaveTargets, url, slaveTarget);
  }

  private slaveKey(sealed: string): string {
    return remember(this.slaveKeys, sealed, (s) => this.box.open(s, SLAVE_KEY_PURPOSE));
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
  onFailed(job: Job<DeliverJobData | DeliverBatchJobData> | undefined, err: Error) {
    if (err instanceof DeliveryRetry) return;
    const what = job?.name === DELIVER_BATCH_JOB ? `batch ${job.id}` : `delivery ${(job?.data as DeliverJobData | undefined)?.deliveryId}`;
    this.logger.error(`${what} job failed: ${err.message}`);
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

/** A run of a batch job after a stall (its worker died or lost its lock) or after a failed run. */
function isRerun(job: Job): boolean {
  return job.attemptsMade > 0 || (job.stalledCounter ?? 0) > 0;
}

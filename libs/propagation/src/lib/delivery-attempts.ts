import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { describeIssues, propagation } from '@switchboard/contracts';
import { PROPAGATION_OUTBOX_EVENT, propagatorEvent } from './propagator-events';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { JITTER } from './schedule';
import { finishIn, retryOnDeadlock } from './delivery-sql';
import type { DeliveredRecord, DeliveryRow, FailedAttempt, ReadyDelivery } from './delivery-types';

/**
 * The worker's reads and writes: the deliveries of a job, their attempts and outcomes, and how
 * deliveries to each slave fare (slave_delivery_health; the slave's row is auth's).
 */
@Injectable()
export class DeliveryAttempts {
  private readonly logger = new Logger('DeliveryAttempts');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {}

  now(): Date {
    return this.options.clock?.now() ?? new Date();
  }

  /** The deliveries of a job, with their slave and change. */
  async load(ids: string[]): Promise<DeliveryRow[]> {
    // Slaves and changes are fetched by key (ANY of the ids the deliveries name): joined directly,
    // PostgreSQL may scan both tables whole for a batch of 50.
    const rows: (Omit<DeliveryRow, 'payload'> & { propagate: DeliveryRow['payload']['propagate'] | null })[] = await this.db.query(
      `WITH d AS MATERIALIZED (
         SELECT id, slave_id, member_id, status, attempts, series, job_id, event_id FROM deliveries WHERE id = ANY($1::bigint[])),
       s AS (SELECT id, url, enabled, slave_key_sealed FROM slaves WHERE id = ANY(ARRAY(SELECT DISTINCT slave_id FROM d))),
       c AS (SELECT event_id, propagate FROM propagation_changes WHERE event_id = ANY(ARRAY(SELECT DISTINCT event_id FROM d)))
       SELECT d.id, d.slave_id, d.member_id, d.status, d.attempts, d.series, d.job_id, d.event_id,
              s.url AS slave_url, s.enabled AS slave_enabled, s.slave_key_sealed,
              -- the change once per event (a batch usually holds one event for many slaves)
              CASE WHEN row_number() OVER (PARTITION BY d.event_id ORDER BY d.id) = 1 THEN c.propagate END AS propagate
         FROM d JOIN s ON s.id = d.slave_id JOIN c ON c.event_id = d.event_id
        ORDER BY d.id`,
      [ids],
    );
    const changes = new Map<string, DeliveryRow['payload']['propagate']>();
    for (const r of rows) {
      if (!r.propagate || changes.has(r.event_id)) continue;
      // The change as auth wrote it to its outbox (libs/contracts `propagation`), checked where it is
      // read: one that breaks the contract is never sent; its deliveries stay parked, visible.
      const checked = propagation.safeParse(r.propagate);
      if (checked.success) changes.set(r.event_id, checked.data);
      else this.logger.error(`change ${r.event_id} breaks its contract, not sent: ${describeIssues(checked.error).slice(0, 5).join('; ')}`);
    }
    return rows.map(({ propagate: _p, ...r }) => ({ ...r, id: String(r.id), payload: { propagate: changes.get(r.event_id) } }));
  }

  /**
   * Spec D15: an older change never overwrites a newer value. When, at the same slave, a newer
   * delivered change sets any field this one sets, or a newer delete (or merge away) of the member
   * was delivered, the delivery is ended `superseded` (returns the next of its line), else null. A
   * superseded `register` leaves the account to be created at that slave by the member's next login
   * there (IPS slaves create local accounts from a successful `login`).
   */
  async supersedeIfNewer(deliveryId: string): Promise<ReadyDelivery[] | null> {
    const [{ superseded }] = await this.db.query(
      `SELECT EXISTS (
         SELECT 1 FROM deliveries d JOIN deliveries n ON n.slave_id = d.slave_id AND n.seq > d.seq
          WHERE d.id = $1 AND n.status = 'delivered'
            AND ((n.member_id = d.member_id AND (n.fields && d.fields OR n.action = 'delete'))
                 OR (n.action = 'merge' AND n.blocking_member_id = d.member_id))) AS superseded`,
      [deliveryId],
    );
    if (superseded !== true) return null;
    return this.db.transaction((m) => finishIn(m, this.now(), deliveryId, 'superseded', 'a newer value was already delivered'));
  }

  /**
   * Whether a run that loaded this delivery still owns it: still ready, in the same job series and
   * job. Checked by a run that may overlap another (a re-run after a stall or a retry, a job the
   * repair pass re-created after Redis lost it) right before it calls the slave: when the other run
   * has finished the delivery meanwhile, or the repair pass has given it a new job, it must not send
   * it again, since the next change of the line may already have gone out after it.
   */
  async stillOwned(d: Pick<DeliveryRow, 'id' | 'series' | 'job_id'>): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `SELECT 1 FROM deliveries WHERE id = $1 AND status = 'ready' AND series = $2 AND job_id IS NOT DISTINCT FROM $3`,
      [d.id, d.series, d.job_id],
    );
    return rows.length > 0;
  }

  /** A delivery found unsendable (its slave disabled, no key, no change): kept, resumed later. */
  async park(deliveryId: string): Promise<void> {
    await this.db.query(`UPDATE deliveries SET status = 'parked', updated_at = $2 WHERE id = $1 AND status = 'ready'`, [deliveryId, this.now()]);
  }

  /**
   * Successful attempts, many in one statement: the attempt rows, the deliveries, the slaves'
   * delivery health (a health row is only written when its state changes or once a second, so busy
   * slaves do not serialize on it). Answers, per delivery, whether a change waits behind it. A
   * deadlock with another propagator's write is retried.
   */
  async recordDelivered(records: DeliveredRecord[]): Promise<Map<string, boolean>> {
    const now = this.now();
    const col = <K extends keyof DeliveredRecord>(k: K) => records.map((r) => r[k]);
    const rows: { id: string; has_next: boolean }[] = await retryOnDeadlock(() => this.db.query(
      `WITH input AS (
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::int[], $5::text[], $6::int[], $7::int[])
                    AS t(id, attempted_at, duration_ms, http_status, ips_status, slave_id, member_id)),
       attempt AS (
         INSERT INTO delivery_attempts (delivery_id, attempted_at, duration_ms, http_status, ips_status, error, outcome)
         SELECT id, attempted_at, duration_ms, http_status, ips_status, NULL, 'delivered' FROM input),
       -- A slave's first success gets its health row.
       fresh AS (
         INSERT INTO slave_delivery_health (slave_id, last_success_at)
         SELECT x.id, $8::timestamptz FROM unnest($9::int[]) AS x(id)
          WHERE NOT EXISTS (SELECT 1 FROM slave_delivery_health h WHERE h.slave_id = x.id)
          ORDER BY x.id
         ON CONFLICT DO NOTHING),
       -- Health rows locked in id order, and skipped when another write holds one (it is recording a
       -- success of that slave too): concurrent group writes neither deadlock nor wait on each other.
       health AS (
         UPDATE slave_delivery_health SET last_success_at = $8, failing_since = NULL
          WHERE slave_id = ANY(ARRAY(SELECT h.slave_id FROM slave_delivery_health h
                                      WHERE h.slave_id = ANY($9::int[])
                                        AND (h.failing_since IS NOT NULL OR h.last_success_at IS NULL OR h.last_success_at < $8::timestamptz - interval '1 second')
                                      ORDER BY h.slave_id FOR UPDATE SKIP LOCKED))),
       -- Each delivery found by its primary key, nothing joined: joined with the input, PostgreSQL
       -- may rescan the whole input for every row, and "d.status = 'ready'" as an index condition
       -- may walk ix_deliveries_status, dead 'ready' versions and all. (attempts + 1: every recorded
       -- attempt counts once, whichever run of a job made it.)
       done AS (
         UPDATE deliveries d SET status = 'delivered', attempts = d.attempts + 1, finished_at = $8, updated_at = $8, next_attempt_at = NULL
          WHERE d.id = ANY($1::bigint[]) AND (d.status = 'ready') IS TRUE)
       -- Two probes per delivery, each on a narrow index (the member's line; merges blocked on the
       -- member). OFFSET 0 keeps each a probe: PostgreSQL would otherwise hash every 'waiting' row
       -- once per statement, walking every dead 'waiting' version until the table is vacuumed.
       SELECT i.id, (EXISTS (SELECT 1 FROM deliveries w
                              WHERE w.slave_id = i.slave_id AND w.member_id = i.member_id AND w.status = 'waiting' OFFSET 0)
                     OR EXISTS (SELECT 1 FROM deliveries b
                                 WHERE b.slave_id = i.slave_id AND b.blocking_member_id IS NOT NULL
                                   AND b.blocking_member_id = i.member_id AND b.status = 'waiting' OFFSET 0)) AS has_next
         FROM input i`,
      [col('id'), col('attemptedAt'), col('durationMs'), col('httpStatus'), col('ipsStatus'), col('slaveId'), col('memberId'), now, [...new Set(col('slaveId'))]],
    ));
    return new Map(rows.map((r) => [String(r.id), r.has_next === true]));
  }

  /**
   * A failed attempt: logged; the delivery parked (DISABLED / 410: `disable` names the reason, and
   * the caller has auth disable the slave), or dead after its last attempt, or due again later
   * (`next: null`: the caller schedules the retry). `stale`: another run ended or took over the
   * delivery meanwhile, and this attempt was only logged.
   */
  async recordFailure(f: FailedAttempt): Promise<{ next: ReadyDelivery[] | null; stale: boolean; disable: string | null }> {
    const { delivery: d, answer, attempt } = f;
    const error = answer.outcome === 'retry' ? answer.error : null;
    let stale = false;
    let disable: string | null = null;
    const next = await this.db.transaction(async (m): Promise<ReadyDelivery[] | null> => {
      await m.query(
        `INSERT INTO delivery_attempts (delivery_id, attempted_at, duration_ms, http_status, ips_status, error, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [d.id, f.attemptedAt, f.durationMs, answer.httpStatus, answer.ipsStatus, error, f.outcome],
      );
      // The delivery as it is now, locked. Another run may have ended it or taken it over meanwhile
      // (a stalled job run twice, a job re-created by the repair pass): its outcome stands, and
      // this failed attempt is only logged. (It does not mark the slave failing either: no retry
      // of this delivery would follow to clear that mark. DISABLED still disables the slave.)
      const [row] = (await m.query(`SELECT status, series FROM deliveries WHERE id = $1 FOR UPDATE`, [d.id])) as { status: string; series: number }[];
      stale = row?.status !== 'ready' || row.series !== d.series;
      const now = this.now();
      if (answer.outcome === 'disabled') {
        if (!stale) await m.query(`UPDATE deliveries SET attempts = $2, status = 'parked', updated_at = $3 WHERE id = $1`, [d.id, attempt, now]);
        disable = answer.httpStatus === 410 ? 'slave answered HTTP 410' : 'slave answered DISABLED';
        return [];
      }
      if (stale) return [];
      // Only the failure that starts a failing period writes the slave's health row: during an
      // outage every failed attempt of that slave comes here, and had each one locked the row until
      // its commit, they would queue on it holding pooled connections, and the deliveries to
      // healthy slaves would wait for a connection (found by the soak).
      await m.query(
        `INSERT INTO slave_delivery_health (slave_id, failing_since) SELECT $1, $2
          WHERE NOT EXISTS (SELECT 1 FROM slave_delivery_health WHERE slave_id = $1) ON CONFLICT DO NOTHING`,
        [d.slave_id, f.attemptedAt],
      );
      await m.query(`UPDATE slave_delivery_health SET failing_since = $2 WHERE slave_id = $1 AND failing_since IS NULL`, [d.slave_id, f.attemptedAt]);
      if (f.last) {
        await m.query(`UPDATE deliveries SET attempts = $2 WHERE id = $1`, [d.id, attempt]);
        await propagatorEvent(m, PROPAGATION_OUTBOX_EVENT.dead, { slaveId: d.slave_id, memberId: d.member_id, data: { delivery_id: d.id, action: f.action, attempts: attempt, error } }, now);
        return finishIn(m, now, d.id, 'dead', error);
      }
      // The latest the next attempt can be due (BullMQ adds up to +20 % jitter): the repair pass
      // treats the delivery as overdue only after that, so a live delayed job is not mistaken for a
      // lost one. The delivery leaves its batch (job_id) for a job of its own.
      const schedule = this.options.schedule;
      const delay = Math.ceil(schedule[Math.min(attempt, schedule.length - 1)] * (1 + JITTER));
      await m.query(`UPDATE deliveries SET attempts = $2, last_error = $3, next_attempt_at = $4, updated_at = $5, job_id = NULL WHERE id = $1`, [
        d.id,
        attempt,
        error,
        new Date(now.getTime() + delay),
        now,
      ]);
      return null;
    });
    return { next, stale, disable };
  }
}

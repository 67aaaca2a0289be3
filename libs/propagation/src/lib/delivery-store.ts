import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { OutboxEventEntity } from '@switchboard/db';
import { Propagation, appendToOutbox, newEvent } from '@switchboard/events';
import { ACTION_FIELDS } from './member-fields';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { BATCH_SIZE } from './queue';
import { JITTER } from './schedule';
import type { SlaveAnswer } from './slave-http';

/** A delivery that became the head of its (slave, member) line and must be enqueued. */
export interface ReadyDelivery {
  id: string;
  attempts: number;
  series: number;
  /** The batch job that carries it; null: a job of its own (see DeliveryScheduler). */
  jobId: string | null;
}

/** A delivery as the worker needs it: the row, its slave and the change (outbox payload). */
export interface DeliveryRow {
  id: string;
  slave_id: number;
  member_id: number;
  status: string;
  attempts: number;
  series: number;
  job_id: string | null;
  event_id: string;
  slave_url: string;
  slave_enabled: boolean;
  slave_key_sealed: string | null;
  payload: { propagate?: Propagation };
}

/** A successful attempt, recorded together with others (see recordDelivered). */
export interface DeliveredRecord {
  id: string;
  attemptedAt: Date;
  durationMs: number;
  httpStatus: number;
  ipsStatus: string;
  slaveId: number;
  memberId: number;
}

/** A failed attempt (or a DISABLED answer), recorded alone (see recordFailure). */
export interface FailedAttempt {
  delivery: Pick<DeliveryRow, 'id' | 'slave_id' | 'member_id' | 'series'>;
  action: string;
  /** This attempt's number, and whether the schedule has no attempt after it. */
  attempt: number;
  last: boolean;
  attemptedAt: Date;
  durationMs: number;
  answer: Exclude<SlaveAnswer, { outcome: 'delivered' }>;
  /** 'retry', 'dead' (a retryable failure on the last attempt) or 'disabled'. */
  outcome: string;
}

type ReadyRow = { id: string; attempts: number; series: number; job_id: string | null };
const toReady = (r: ReadyRow): ReadyDelivery => ({ id: String(r.id), attempts: r.attempts, series: r.series, jobId: r.job_id });

const PENDING = "('waiting', 'ready', 'parked')";

/** Runs `fn` again (up to `tries` times in all) when PostgreSQL aborted it for a deadlock or serialization failure. */
async function retryOnDeadlock<T>(fn: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (err as { code?: string }).code;
      if (i >= tries || (code !== '40P01' && code !== '40001')) throw err;
    }
  }
}
const RELAY_LOCK = 7_106_362_848;

/** Rows of an `UPDATE … RETURNING` (TypeORM's postgres driver answers `[rows, count]` for UPDATE). */
async function returning<T>(runner: { query(sql: string, params?: unknown[]): Promise<unknown> }, sql: string, params: unknown[]): Promise<T[]> {
  const result = (await runner.query(sql, params)) as unknown[];
  return (Array.isArray(result[0]) ? result[0] : result) as T[];
}

/**
 * The deliveries table: fan-out from the outbox, the per-(slave, member) order, outcomes. PostgreSQL
 * is the record of truth; BullMQ only carries "deliver #id now" (see DeliveryScheduler).
 */
@Injectable()
export class DeliveryStore {
  constructor(
    @InjectDataSource() readonly db: DataSource,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {}

  now(): Date {
    return this.options.clock?.now() ?? new Date();
  }

  /**
   * Turns up to `limit` committed outbox events into deliveries, one per enabled slave that has
   * registered its key, the originator excluded; marks the events relayed. Returns the deliveries
   * that are now at the head of their line.
   */
  async relayBatch(limit = 100): Promise<{ events: number; ready: ReadyDelivery[]; members: number[] }> {
    return this.db.transaction(async (manager) => {
      // One relay at a time across propagators (an advisory lock, not row locks: the auth service's
      // publisher locks the same outbox rows briefly, and SKIP LOCKED would make us miss them).
      const [{ locked }] = await manager.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [RELAY_LOCK]);
      if (!locked) return { events: 0, ready: [], members: [] };
      const rows: Pick<OutboxEventEntity, 'id' | 'eventId' | 'payload'>[] = await manager
        .createQueryBuilder(OutboxEventEntity, 'o')
        .select(['o.id', 'o.eventId', 'o.payload'])
        .where('o.relayed_at IS NULL')
        .orderBy('o.id', 'ASC')
        .limit(limit)
        .getMany();
      if (rows.length === 0) return { events: 0, ready: [], members: [] };
      const now = this.now();
      const members = new Set<number>();
      const events: { event_id: string; seq: string; member_id: number; blocking: number | null; action: string; fields: string[]; origin: number | null }[] = [];
      for (const row of rows) {
        const payload = row.payload as { propagate?: Propagation; memberId?: number | null; slaveId?: number | null };
        if (!payload.propagate || typeof payload.memberId !== 'number') continue;
        members.add(payload.memberId);
        // A merge also waits for the removed member's line (its pending changes go out first).
        const removed = payload.propagate.action === 'merge' ? Number(payload.propagate.params.find(([k]) => k === 'remove')?.[1]) : NaN;
        if (Number.isInteger(removed)) members.add(removed);
        events.push({
          event_id: row.eventId,
          seq: String(row.id),
          member_id: payload.memberId,
          blocking: Number.isInteger(removed) ? removed : null,
          action: payload.propagate.action,
          fields: ACTION_FIELDS[payload.propagate.action] ?? [],
          origin: payload.slaveId ?? null,
        });
      }
      // One statement for the whole batch: every event × every enabled slave with a key, the originator excluded.
      if (events.length) {
        await manager.query(
          `INSERT INTO deliveries (event_id, seq, slave_id, member_id, blocking_member_id, action, fields, status, next_attempt_at, created_at, updated_at)
           SELECT e.event_id, e.seq, s.id, e.member_id, e.blocking, e.action, e.fields, 'waiting', $2, $2, $2
             FROM jsonb_to_recordset($1::jsonb) AS e(event_id uuid, seq bigint, member_id int, blocking int, action text, fields text[], origin int)
             JOIN slaves s ON s.enabled AND s.slave_key_sealed IS NOT NULL AND s.id IS DISTINCT FROM e.origin
            ORDER BY e.seq, s.id
           ON CONFLICT (event_id, slave_id) DO NOTHING`,
          [JSON.stringify(events), now],
        );
      }
      await manager.query(`UPDATE outbox_events SET relayed_at = $2 WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id), now]);
      const ready = members.size ? await this.promote(manager, { members: [...members] }) : [];
      return { events: rows.length, ready, members: [...members] };
    });
  }

  /**
   * Makes `ready` every waiting delivery with nothing pending before it for its (slave, member):
   * the head of each line. Restricted to some members or slaves when given.
   */
  async promote(manager: EntityManager, scope: { members?: number[]; slaves?: number[] } = {}, limit = 5000): Promise<ReadyDelivery[]> {
    const where: string[] = [];
    const params: unknown[] = [this.now()];
    if (scope.members) {
      params.push(scope.members);
      where.push(`(d.member_id = ANY($${params.length}::int[]) OR d.blocking_member_id = ANY($${params.length}::int[]))`);
    }
    if (scope.slaves) {
      params.push(scope.slaves);
      where.push(`d.slave_id = ANY($${params.length}::int[])`);
    }
    params.push(limit);
    // The promoted deliveries are cut into batch jobs of BATCH_SIZE, named here (job_id) so that
    // the worker and the repair pass can tell which job carries a delivery.
    params.push(`batch-${randomBytes(9).toString('base64url')}-`, BATCH_SIZE);
    const rows = await returning<ReadyRow>(
      manager,
      `UPDATE deliveries d SET status = 'ready', updated_at = $1, next_attempt_at = $1,
              job_id = $${params.length - 1} || x.chunk
         FROM (SELECT c.id, (row_number() OVER (ORDER BY c.id) - 1) / $${params.length} AS chunk
                 FROM (SELECT w.id FROM deliveries w
                        WHERE w.status = 'waiting' ${where.length ? 'AND ' + where.join(' AND ').replace(/d\./g, 'w.') : ''}
                          -- nothing earlier pending in its line (nor, for a merge, in the removed member's line)…
                          AND NOT EXISTS (SELECT 1 FROM deliveries e
                                           WHERE e.slave_id = w.slave_id AND e.member_id IN (w.member_id, w.blocking_member_id)
                                             AND e.seq < w.seq AND e.status IN ${PENDING})
                          -- …and nothing of its line in flight (a retried old delivery waits for a newer one)
                          AND NOT EXISTS (SELECT 1 FROM deliveries r
                                           WHERE r.slave_id = w.slave_id AND r.member_id = w.member_id AND r.status = 'ready')
                        ORDER BY w.id LIMIT $${params.length - 2}) c) x
        WHERE d.id = x.id AND d.status = 'waiting'
        RETURNING d.id, d.attempts, d.series, d.job_id`,
      params,
    );
    return rows.map(toReady);
  }

  /** Ends a delivery and promotes the next one of its line. */
  async finish(manager: EntityManager, deliveryId: string, status: 'delivered' | 'dead' | 'superseded', error: string | null): Promise<ReadyDelivery[]> {
    const now = this.now();
    const [row] = await returning<{ slave_id: number; member_id: number }>(
      manager,
      `UPDATE deliveries SET status = $2, finished_at = $3, updated_at = $3, last_error = coalesce($4, last_error), next_attempt_at = NULL
        WHERE id = $1 RETURNING slave_id, member_id`,
      [deliveryId, status, now, error],
    );
    if (!row) return [];
    return this.promote(manager, { members: [row.member_id], slaves: [row.slave_id] });
  }

  /**
   * Spec D15: an older change never overwrites a newer value. True when, at the same slave, a newer
   * delivered change sets any field this one sets, or a newer delete (or merge away) of the member
   * was delivered. A superseded `register` leaves the account to be created at that slave by the
   * member's next login there (IPS slaves create local accounts from a successful `login`).
   */
  async isSuperseded(manager: EntityManager, deliveryId: string): Promise<boolean> {
    const [{ superseded }] = await manager.query(
      `SELECT EXISTS (
         SELECT 1 FROM deliveries d JOIN deliveries n ON n.slave_id = d.slave_id AND n.seq > d.seq
          WHERE d.id = $1 AND n.status = 'delivered'
            AND ((n.member_id = d.member_id AND (n.fields && d.fields OR n.action = 'delete'))
                 OR (n.action = 'merge' AND n.blocking_member_id = d.member_id))) AS superseded`,
      [deliveryId],
    );
    return superseded === true;
  }

  /**
   * D13: a sealed `pass_hash` stays in the outbox only while a delivery may still need it: erased
   * once every delivery of its event is delivered or superseded (dead letters keep it for a retry).
   */
  async eraseDeliveredSecrets(limit = 1000): Promise<number> {
    const rows = await returning<{ id: string }>(
      this.db,
      `UPDATE outbox_events o
          SET payload = jsonb_set(o.payload, '{propagate}', jsonb_build_object('action', o.payload->'propagate'->'action', 'params', '[]'::jsonb, 'sealed', '[]'::jsonb, 'erased', true))
        WHERE o.id IN (
          SELECT x.id FROM outbox_events x
           WHERE x.relayed_at IS NOT NULL AND jsonb_array_length(coalesce(x.payload->'propagate'->'sealed', '[]'::jsonb)) > 0
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = x.event_id AND d.status NOT IN ('delivered', 'superseded'))
           ORDER BY x.id LIMIT $1)
        RETURNING o.id`,
      [limit],
    );
    return rows.length;
  }

  /** Disables a slave and parks its pending deliveries (kept, resumed after verifySettings). */
  async disableSlave(manager: EntityManager, slaveId: number, reason: string): Promise<boolean> {
    const now = this.now();
    const result = await returning<{ id: number }>(
      manager,
      `UPDATE slaves SET enabled = false, disabled_reason = $2, updated_at = $3 WHERE id = $1 AND enabled RETURNING id`,
      [slaveId, reason, now],
    );
    await manager.query(`UPDATE deliveries SET status = 'parked', updated_at = $2 WHERE slave_id = $1 AND status IN ('waiting', 'ready')`, [slaveId, now]);
    const changed = result.length > 0;
    if (changed) await appendToOutbox(manager, newEvent('slave_disabled', 'propagator', { slaveId, data: { reason } }, now));
    return changed;
  }

  /**
   * Parked deliveries of slaves enabled again (they called verifySettings) go back in line, in a new
   * job series (the job that found the slave disabled has completed under the old one).
   */
  async unpark(): Promise<number> {
    const rows = await returning<{ id: string }>(
      this.db,
      `UPDATE deliveries d SET status = 'waiting', series = d.series + 1, updated_at = $1
         FROM slaves s WHERE s.id = d.slave_id AND s.enabled AND d.status = 'parked' RETURNING d.id`,
      [this.now()],
    );
    return rows.length;
  }

  /** Spec D15: slaves failing every delivery for `afterMs` are disabled, with an audit event. */
  async autoDisable(afterMs: number): Promise<number[]> {
    if (afterMs <= 0) return [];
    const cutoff = new Date(this.now().getTime() - afterMs);
    const slaves: { id: number }[] = await this.db.query(`SELECT id FROM slaves WHERE enabled AND failing_since < $1`, [cutoff]);
    const disabled: number[] = [];
    for (const { id } of slaves) {
      const days = Math.round((afterMs / 86_400_000) * 10) / 10;
      const ok = await this.db.transaction((m) => this.disableSlave(m, id, `every delivery failed for ${days} days`));
      if (ok) disabled.push(id);
    }
    return disabled;
  }

  /** Ready deliveries whose time has passed by `graceMs` (their job may be gone: Redis lost it). */
  async overdue(graceMs: number, limit = 1000): Promise<ReadyDelivery[]> {
    const rows: ReadyRow[] = await this.db.query(
      `SELECT id, attempts, series, job_id FROM deliveries WHERE status = 'ready' AND next_attempt_at < $1 ORDER BY id LIMIT $2`,
      [new Date(this.now().getTime() - graceMs), limit],
    );
    return rows.map(toReady);
  }

  /** A new job series (a job of its own) for a ready delivery whose job is gone; only if nobody renewed it meanwhile. */
  async bumpSeries(id: string, expectedSeries: number): Promise<ReadyDelivery | null> {
    const [row] = await returning<ReadyRow>(
      this.db,
      `UPDATE deliveries SET series = series + 1, job_id = NULL, next_attempt_at = $2, updated_at = $2
        WHERE id = $1 AND status = 'ready' AND series = $3 RETURNING id, attempts, series, job_id`,
      [id, this.now(), expectedSeries],
    );
    return row ? toReady(row) : null;
  }

  /** The deliveries of a job, with their slave and change. */
  async load(ids: string[]): Promise<DeliveryRow[]> {
    // Slaves and changes are fetched by key (ANY of the ids the deliveries name): joined directly,
    // PostgreSQL may scan both tables whole for a batch of 50.
    const rows: DeliveryRow[] = await this.db.query(
      `WITH d AS MATERIALIZED (
         SELECT id, slave_id, member_id, status, attempts, series, job_id, event_id FROM deliveries WHERE id = ANY($1::bigint[])),
       s AS (SELECT id, url, enabled, slave_key_sealed FROM slaves WHERE id = ANY(ARRAY(SELECT DISTINCT slave_id FROM d))),
       o AS (SELECT event_id, payload FROM outbox_events WHERE event_id = ANY(ARRAY(SELECT DISTINCT event_id FROM d)))
       SELECT d.id, d.slave_id, d.member_id, d.status, d.attempts, d.series, d.job_id, d.event_id,
              s.url AS slave_url, s.enabled AS slave_enabled, s.slave_key_sealed,
              -- the change once per event (a batch usually holds one event for many slaves)
              CASE WHEN row_number() OVER (PARTITION BY d.event_id ORDER BY d.id) = 1 THEN o.payload END AS payload
         FROM d JOIN s ON s.id = d.slave_id JOIN o ON o.event_id = d.event_id
        ORDER BY d.id`,
      [ids],
    );
    const payloads = new Map<string, DeliveryRow['payload']>();
    for (const r of rows) if (r.payload) payloads.set(r.event_id, r.payload);
    return rows.map((r) => ({ ...r, id: String(r.id), payload: payloads.get(r.event_id) ?? {} }));
  }

  /**
   * Successful attempts, many in one statement: the attempt rows, the deliveries, the slaves'
   * bookkeeping (a slave row is only written when its state changes or once a second, so busy
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
       -- Slave rows locked in id order, and skipped when another write holds one (it is recording a
       -- success of that slave too): concurrent group writes neither deadlock nor wait on each other.
       slave AS (
         UPDATE slaves SET last_success_at = $8, failing_since = NULL
          WHERE id = ANY(ARRAY(SELECT s.id FROM slaves s
                                WHERE s.id = ANY($9::int[])
                                  AND (s.failing_since IS NOT NULL OR s.last_success_at IS NULL OR s.last_success_at < $8::timestamptz - interval '1 second')
                                ORDER BY s.id FOR UPDATE SKIP LOCKED))),
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

  /** A delivery found unsendable (its slave disabled, no key, no change): kept, resumed later. */
  async park(deliveryId: string): Promise<void> {
    await this.db.query(`UPDATE deliveries SET status = 'parked', updated_at = $2 WHERE id = $1 AND status = 'ready'`, [deliveryId, this.now()]);
  }

  /**
   * A failed attempt: logged; the slave disabled (DISABLED / 410), or the delivery dead after its
   * last attempt, or due again later (`next: null`: the caller schedules the retry). `stale`: another
   * run ended or took over the delivery meanwhile, and this attempt was only logged.
   */
  async recordFailure(f: FailedAttempt): Promise<{ next: ReadyDelivery[] | null; stale: boolean }> {
    const { delivery: d, answer, attempt } = f;
    const error = answer.outcome === 'retry' ? answer.error : null;
    let stale = false;
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
        if (!stale) await m.query(`UPDATE deliveries SET attempts = $2 WHERE id = $1`, [d.id, attempt]);
        await this.disableSlave(m, d.slave_id, answer.httpStatus === 410 ? 'slave answered HTTP 410' : 'slave answered DISABLED');
        return [];
      }
      if (stale) return [];
      // Only the failure that starts a failing period writes the slave's row: during an outage every
      // failed attempt of that slave comes here, and had each one locked the row until its commit,
      // they would queue on it holding pooled connections, and the deliveries to healthy slaves
      // would wait for a connection (found by the soak).
      await m.query(`UPDATE slaves SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL`, [d.slave_id, f.attemptedAt]);
      if (f.last) {
        await m.query(`UPDATE deliveries SET attempts = $2 WHERE id = $1`, [d.id, attempt]);
        await appendToOutbox(m, newEvent('delivery_dead', 'propagator', { slaveId: d.slave_id, memberId: d.member_id, data: { delivery_id: d.id, action: f.action, attempts: attempt, error } }, now));
        return this.finish(m, d.id, 'dead', error);
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
    return { next, stale };
  }

  /**
   * Admin retry of dead letters (one, or all of a slave oldest first): a fresh attempt series; an
   * old change whose fields were since delivered newer will be superseded when its turn comes.
   */
  async retry(filter: { deliveryId?: string; slaveId?: number }): Promise<{ retried: string[]; ready: ReadyDelivery[] }> {
    return this.db.transaction(async (manager) => {
      const now = this.now();
      const params: unknown[] = [now];
      let where = "status = 'dead'";
      if (filter.deliveryId) {
        params.push(filter.deliveryId);
        where += ` AND id = $${params.length}`;
      }
      if (filter.slaveId) {
        params.push(filter.slaveId);
        where += ` AND slave_id = $${params.length}`;
      }
      const rows = await returning<{ id: string; slave_id: number; member_id: number }>(
        manager,
        `UPDATE deliveries SET status = 'waiting', attempts = 0, series = series + 1, finished_at = NULL, updated_at = $1, next_attempt_at = $1
          WHERE ${where} RETURNING id, slave_id, member_id`,
        params,
      );
      if (rows.length === 0) return { retried: [], ready: [] };
      for (const row of rows) {
        await appendToOutbox(manager, newEvent('delivery_retried', 'admin', { slaveId: row.slave_id, memberId: row.member_id, data: { delivery_id: String(row.id) } }, now));
      }
      const ready = await this.promote(manager, { members: [...new Set(rows.map((r) => r.member_id))], slaves: [...new Set(rows.map((r) => r.slave_id))] });
      return { retried: rows.map((r) => String(r.id)).sort((a, b) => Number(a) - Number(b)), ready };
    });
  }
}

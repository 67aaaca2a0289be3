import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { PROPAGATION_OUTBOX_EVENT, propagatorEvent } from './propagator-events';
import { finishIn, promoteIn, returning } from './delivery-sql';
import type { ReadyDelivery } from './delivery-types';

/** The SQL narrowing a retry to one delivery or one slave; its values appended to `params`. */
function narrowedTo(filter: { deliveryId?: string; slaveId?: number }, params: unknown[]): string {
  let sql = '';
  if (filter.deliveryId) {
    params.push(filter.deliveryId);
    sql += ` AND id = $${params.length}`;
  }
  if (filter.slaveId) {
    params.push(filter.slaveId);
    sql += ` AND slave_id = $${params.length}`;
  }
  return sql;
}

/** Retries of dead letters, asked for by the admin API (through the propagator's internal routes). */
@Injectable()
export class DeliveryRetries {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {}

  /**
   * Dead letters (one, or all of a slave oldest first) get a fresh attempt series and a
   * `delivery_retried` audit event; an old change whose fields were since delivered newer will be
   * superseded when its turn comes.
   */
  async retry(filter: { deliveryId?: string; slaveId?: number }): Promise<{ retried: string[]; ready: ReadyDelivery[] }> {
    return this.db.transaction(async (manager) => {
      const now = this.options.clock?.now() ?? new Date();
      const params: unknown[] = [now];
      const where = `status = 'dead'${narrowedTo(filter, params)}`;
      const rows = await returning<{ id: string; slave_id: number; member_id: number }>(
        manager,
        `UPDATE deliveries SET status = 'waiting', attempts = 0, series = series + 1, finished_at = NULL, updated_at = $1, next_attempt_at = $1
          WHERE ${where} RETURNING id, slave_id, member_id`,
        params,
      );
      if (rows.length === 0) return { retried: [], ready: [] };
      for (const row of rows) {
        await propagatorEvent(manager, PROPAGATION_OUTBOX_EVENT.retried, { slaveId: row.slave_id, memberId: row.member_id, data: { delivery_id: String(row.id) } }, now, 'admin');
      }
      const ready = await promoteIn(manager, now, { members: [...new Set(rows.map((r) => r.member_id))], slaves: [...new Set(rows.map((r) => r.slave_id))] });
      return { retried: rows.map((r) => String(r.id)).sort((a, b) => Number(a) - Number(b)), ready };
    });
  }

  /**
   * "Retry now" of heads of lines waiting out their backoff (one delivery, or every one of a slave):
   * a fresh attempt series due now, with a `delivery_retried` audit event. The job of the old series
   * finds itself outdated and does nothing. An attempt already in flight at that moment may still
   * reach the slave once more (IPS actions are idempotent at the slave).
   */
  async retryNowReady(filter: { deliveryId?: string; slaveId?: number }): Promise<{ retried: string[]; ready: ReadyDelivery[] }> {
    return this.db.transaction(async (manager) => {
      const now = this.options.clock?.now() ?? new Date();
      const params: unknown[] = [now];
      const where = `status = 'ready' AND attempts > 0${narrowedTo(filter, params)}`;
      const rows = await returning<{ id: string; slave_id: number; member_id: number; series: number }>(
        manager,
        `UPDATE deliveries SET attempts = 0, series = series + 1, job_id = NULL, next_attempt_at = $1, updated_at = $1
          WHERE ${where} RETURNING id, slave_id, member_id, series`,
        params,
      );
      for (const row of rows) {
        await propagatorEvent(manager, PROPAGATION_OUTBOX_EVENT.retried, { slaveId: row.slave_id, memberId: row.member_id, data: { delivery_id: String(row.id), now: true } }, now, 'admin');
      }
      const sorted = rows.map((r) => ({ id: String(r.id), attempts: 0, series: r.series, jobId: null })).sort((a, b) => Number(a.id) - Number(b.id));
      return { retried: sorted.map((r) => r.id), ready: sorted };
    });
  }

  /**
   * Discards a delivery that has not ended (waiting, ready, parked or dead): it is never sent, ends
   * `discarded` with a `delivery_discarded` audit event, and the next change of its line moves up.
   * null when it had already ended (or does not exist).
   */
  async discard(deliveryId: string): Promise<{ ready: ReadyDelivery[] } | null> {
    return this.db.transaction(async (manager) => {
      const now = this.options.clock?.now() ?? new Date();
      const [row] = (await manager.query(
        `SELECT id, slave_id, member_id FROM deliveries WHERE id = $1 AND status IN ('waiting', 'ready', 'parked', 'dead') FOR UPDATE`,
        [deliveryId],
      )) as { id: string; slave_id: number; member_id: number }[];
      if (!row) return null;
      await propagatorEvent(manager, PROPAGATION_OUTBOX_EVENT.discarded, { slaveId: row.slave_id, memberId: row.member_id, data: { delivery_id: String(row.id) } }, now, 'admin');
      return { ready: await finishIn(manager, now, String(row.id), 'discarded', 'discarded by an admin') };
    });
  }

  /** A delivery's status (null: no such delivery), to say why it was not retried. */
  async status(deliveryId: string): Promise<string | null> {
    const [row] = (await this.db.query(`SELECT status FROM deliveries WHERE id = $1`, [deliveryId])) as { status: string }[];
    return row?.status ?? null;
  }

  async slaveExists(slaveId: number): Promise<boolean> {
    const rows = (await this.db.query(`SELECT 1 FROM slaves WHERE id = $1`, [slaveId])) as unknown[];
    return rows.length > 0;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { ReadyRow, returning, toReady } from './delivery-sql';
import type { ReadyDelivery } from './delivery-types';

/** The repair pass's work on the propagator's tables: secrets, parking, lost jobs, failing slaves. */
@Injectable()
export class DeliveryMaintenance {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {}

  private now(): Date {
    return this.options.clock?.now() ?? new Date();
  }

  /**
   * D13: a sealed `pass_hash` stays in the propagator's copy of a change only while a delivery may
   * still need it: erased once every delivery of it is delivered or superseded (dead letters keep it
   * for a retry). The outbox row is its writer's, which publishes it without the parameters.
   */
  async eraseDeliveredSecrets(limit = 1000): Promise<number> {
    const rows = await returning<{ seq: string }>(
      this.db,
      `UPDATE propagation_changes c
          SET propagate = jsonb_build_object('action', c.propagate->'action', 'params', '[]'::jsonb, 'sealed', '[]'::jsonb, 'erased', true)
        WHERE c.seq IN (
          SELECT x.seq FROM propagation_changes x
           WHERE jsonb_array_length(coalesce(x.propagate->'sealed', '[]'::jsonb)) > 0
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = x.event_id AND d.status NOT IN ('delivered', 'superseded', 'discarded'))
           ORDER BY x.seq LIMIT $1)
        RETURNING c.seq`,
      [limit],
    );
    return rows.length;
  }

  /** Parks the pending deliveries of one slave (just disabled); it is no longer "failing". */
  async parkSlave(slaveId: number): Promise<number> {
    return this.db.transaction(async (m) => {
      const rows = await returning<{ id: string }>(
        m,
        `UPDATE deliveries SET status = 'parked', updated_at = $2 WHERE slave_id = $1 AND status IN ('waiting', 'ready') RETURNING id`,
        [slaveId, this.now()],
      );
      await m.query(`UPDATE slave_delivery_health SET failing_since = NULL WHERE slave_id = $1 AND failing_since IS NOT NULL`, [slaveId]);
      return rows.length;
    });
  }

  /**
   * Whichever path disabled a slave (disableSlave, a DISABLED answer, auto-disable, admin): its
   * pending deliveries are parked, and it is no longer "failing" (it starts clean when it comes back).
   */
  async parkDisabledSlaves(): Promise<number> {
    const rows = await returning<{ id: string }>(
      this.db,
      `UPDATE deliveries SET status = 'parked', updated_at = $1
        WHERE slave_id = ANY(ARRAY(SELECT id FROM slaves WHERE NOT enabled)) AND status IN ('waiting', 'ready') RETURNING id`,
      [this.now()],
    );
    await this.db.query(
      `UPDATE slave_delivery_health SET failing_since = NULL
        WHERE failing_since IS NOT NULL AND slave_id = ANY(ARRAY(SELECT id FROM slaves WHERE NOT enabled))`,
    );
    return rows.length;
  }

  /**
   * A slave deleted by an admin (auth deleted its row): its pending and dead deliveries end
   * `discarded` (never sent; the history stays) and its health row goes.
   */
  async discardDeletedSlaves(): Promise<number> {
    const now = this.now();
    const rows = await returning<{ id: string }>(
      this.db,
      `UPDATE deliveries d SET status = 'discarded', finished_at = $1, updated_at = $1, next_attempt_at = NULL, last_error = 'slave deleted'
        WHERE d.status IN ('waiting', 'ready', 'parked', 'dead') AND NOT EXISTS (SELECT 1 FROM slaves s WHERE s.id = d.slave_id) RETURNING d.id`,
      [now],
    );
    await this.db.query(`DELETE FROM slave_delivery_health h WHERE NOT EXISTS (SELECT 1 FROM slaves s WHERE s.id = h.slave_id)`);
    return rows.length;
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

  /**
   * Spec D15: enabled slaves whose deliveries have all failed for `afterMs` (counted from their last
   * registration when that is later: a slave coming back starts clean).
   */
  async failingSlaves(afterMs: number): Promise<number[]> {
    if (afterMs <= 0) return [];
    const cutoff = new Date(this.now().getTime() - afterMs);
    const rows: { id: number }[] = await this.db.query(
      `SELECT s.id FROM slave_delivery_health h JOIN slaves s ON s.id = h.slave_id
        WHERE s.enabled AND h.failing_since < $1 AND s.updated_at < $1 ORDER BY s.id`,
      [cutoff],
    );
    return rows.map((r) => r.id);
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
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface DeliveryListRow {
  id: string;
  event_id: string;
  seq: string;
  slave_id: number;
  member_id: number;
  action: string;
  status: string;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

export interface AttemptRow {
  attempted_at: Date;
  duration_ms: number;
  http_status: number | null;
  ips_status: string | null;
  error: string | null;
  outcome: string;
}

/** The admin API's reads of the propagator's tables (it writes none of them). */
@Injectable()
export class DeliveryQueries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Newest first, `limit` + 1 rows (the extra one says there is a next page). */
  list(filter: { status?: string; slaveId?: number; memberId?: number; before?: string }, limit: number): Promise<DeliveryListRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.status) add('status = ?', filter.status);
    if (filter.slaveId) add('slave_id = ?', filter.slaveId);
    if (filter.memberId) add('member_id = ?', filter.memberId);
    if (filter.before) add('id < ?', filter.before);
    params.push(limit + 1);
    return this.db.query(`SELECT * FROM deliveries ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT $${params.length}`, params);
  }

  async get(id: string): Promise<{ delivery: DeliveryListRow; attempts: AttemptRow[] } | null> {
    const [delivery] = (await this.db.query(`SELECT * FROM deliveries WHERE id = $1`, [id])) as DeliveryListRow[];
    if (!delivery) return null;
    const attempts: AttemptRow[] = await this.db.query(`SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id`, [id]);
    return { delivery, attempts };
  }

  /** Per slave: pending and dead deliveries, and how deliveries to it fare. */
  async slaveStats(): Promise<Map<number, { pending: number; dead: number; lastSuccessAt: Date | null; failingSince: Date | null }>> {
    const rows: { slave_id: number; pending: string | null; dead: string | null; last_success_at: Date | null; failing_since: Date | null }[] = await this.db.query(
      `SELECT coalesce(c.slave_id, h.slave_id) AS slave_id, c.pending, c.dead, h.last_success_at, h.failing_since
         FROM (SELECT slave_id,
                      count(*) FILTER (WHERE status IN ('waiting', 'ready', 'parked')) AS pending,
                      count(*) FILTER (WHERE status = 'dead') AS dead
                 FROM deliveries WHERE status IN ('waiting', 'ready', 'parked', 'dead') GROUP BY slave_id) c
         FULL JOIN slave_delivery_health h ON h.slave_id = c.slave_id`,
    );
    return new Map(
      rows.map((r) => [r.slave_id, { pending: Number(r.pending ?? 0), dead: Number(r.dead ?? 0), lastSuccessAt: r.last_success_at, failingSince: r.failing_since }]),
    );
  }
}

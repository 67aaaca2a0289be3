import { randomBytes } from 'node:crypto';
import { BATCH_SIZE } from './queue';
import type { ReadyDelivery } from './delivery-types';

/** Something that runs SQL: the data source or a transaction's manager (lib-internal helpers only). */
export interface Sql {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export type ReadyRow = { id: string; attempts: number; series: number; job_id: string | null };
export const toReady = (r: ReadyRow): ReadyDelivery => ({ id: String(r.id), attempts: r.attempts, series: r.series, jobId: r.job_id });

export const PENDING = "('waiting', 'ready', 'parked')";

/** Runs `fn` again (up to `tries` times in all) when PostgreSQL aborted it for a deadlock or serialization failure. */
export async function retryOnDeadlock<T>(fn: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (err as { code?: string }).code;
      if (i >= tries || (code !== '40P01' && code !== '40001')) throw err;
    }
  }
}

/** Rows of an `UPDATE … RETURNING` (TypeORM's postgres driver answers `[rows, count]` for UPDATE). */
export async function returning<T>(runner: Sql, sql: string, params: unknown[]): Promise<T[]> {
  const result = (await runner.query(sql, params)) as unknown[];
  return (Array.isArray(result[0]) ? result[0] : result) as T[];
}

/**
 * Makes `ready` every waiting delivery with nothing pending before it for its (slave, member):
 * the head of each line. Restricted to some members or slaves when given. Run by the classes that
 * own a transaction (relay, attempts, retries, lines), inside it.
 */
export async function promoteIn(runner: Sql, now: Date, scope: { members?: number[]; slaves?: number[] } = {}, limit = 5000): Promise<ReadyDelivery[]> {
  const where: string[] = [];
  const params: unknown[] = [now];
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
    runner,
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

/** Ends a delivery and promotes the next one of its line (inside the caller's transaction). */
export async function finishIn(runner: Sql, now: Date, deliveryId: string, status: 'delivered' | 'dead' | 'superseded' | 'discarded', error: string | null): Promise<ReadyDelivery[]> {
  const [row] = await returning<{ slave_id: number; member_id: number }>(
    runner,
    `UPDATE deliveries SET status = $2, finished_at = $3, updated_at = $3, last_error = coalesce($4, last_error), next_attempt_at = NULL
      WHERE id = $1 RETURNING slave_id, member_id`,
    [deliveryId, status, now, error],
  );
  if (!row) return [];
  return promoteIn(runner, now, { members: [row.member_id], slaves: [row.slave_id] });
}

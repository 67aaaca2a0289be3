import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { auditEventView, slaveView } from '@switchboard/contracts';
import { AuditEventEntity, SlaveEntity } from '@switchboard/db';
import { withoutCredentials } from '@switchboard/outbound';
import { REDIS, SLAVE_SEEN_KEY } from '@switchboard/redis';
import { decodeCursor, pageOf } from './cursor';
import { DeliveryQueries } from './delivery-queries';

export type SlaveListItem = z.output<typeof slaveView>;
export type AuditListItem = z.output<typeof auditEventView>;

/** The slave list with each slave's delivery health: one query for the API (`GET /admin/slaves`) and the web console. */
@Injectable()
export class SlaveListing {
  private readonly logger = new Logger('AdminSlaves');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
    private readonly deliveries: DeliveryQueries,
  ) {}

  /** Last calls the gateway answered (Redis, written by the gateway); empty while Redis is away. */
  async seenByGateway(): Promise<Map<number, number>> {
    try {
      const all = await this.redis.hgetall(SLAVE_SEEN_KEY);
      return new Map(Object.entries(all).map(([id, ms]) => [Number(id), Number(ms)]));
    } catch (err) {
      this.logger.warn(`last access from the gateway unavailable: ${(err as Error).message}`);
      return new Map();
    }
  }

  async page(query: { enabled?: boolean; cursor?: string; limit?: number }): Promise<{ items: SlaveListItem[]; next_cursor: string | null }> {
    const limit = query.limit ?? 100;
    const qb = this.db.getRepository(SlaveEntity).createQueryBuilder('s').orderBy('s.id', 'ASC').limit(limit + 1);
    if (query.enabled !== undefined) qb.andWhere('s.enabled = :enabled', { enabled: query.enabled });
    const after = decodeCursor('slaves', query.cursor);
    if (after !== undefined) qb.andWhere('s.id > :after', { after: Number(after) });
    const slaves = await qb.getMany();
    const stats = await this.deliveries.slaveStats();
    const seen = await this.seenByGateway();
    // Spec D4's last access: the later of auth's record (actions it ran) and the gateway's (reads).
    const lastAccess = (s: SlaveEntity) => {
      const ms = Math.max(s.lastAccessAt?.getTime() ?? 0, seen.get(s.id) ?? 0);
      return ms > 0 ? new Date(ms).toISOString() : null;
    };
    return pageOf('slaves', slaves, limit, (s) => s.id, (s) => ({
      id: s.id,
      // Credentials are refused at registration; a slave registered with some before is listed without them.
      url: withoutCredentials(s.url),
      enabled: s.enabled,
      disabled_reason: s.disabledReason,
      verified: s.slaveKeySealed !== null,
      registered_at: s.registeredAt.toISOString(),
      last_access_at: lastAccess(s),
      pending: stats.get(s.id)?.pending ?? 0,
      dead: stats.get(s.id)?.dead ?? 0,
      last_success_at: stats.get(s.id)?.lastSuccessAt?.toISOString() ?? null,
      failing_since: stats.get(s.id)?.failingSince?.toISOString() ?? null,
    }));
  }
}

/** The audit log, newest first: one query for the API (`GET /admin/audit`) and the web console (which adds a time range). */
@Injectable()
export class AuditListing {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async page(query: { type?: string; slave_id?: number; member_id?: number; cursor?: string; limit?: number; since?: Date; until?: Date }): Promise<{ items: AuditListItem[]; next_cursor: string | null }> {
    const limit = query.limit ?? 100;
    const qb = this.db.getRepository(AuditEventEntity).createQueryBuilder('a').orderBy('a.id', 'DESC').limit(limit + 1);
    if (query.type) qb.andWhere('a.type = :type', { type: query.type });
    if (query.slave_id) qb.andWhere('a.slave_id = :slaveId', { slaveId: query.slave_id });
    if (query.member_id) qb.andWhere('a.member_id = :memberId', { memberId: query.member_id });
    if (query.since) qb.andWhere('a.occurred_at >= :since', { since: query.since });
    if (query.until) qb.andWhere('a.occurred_at < :until', { until: query.until });
    const before = decodeCursor('audit', query.cursor);
    if (before !== undefined) qb.andWhere('a.id < :before', { before });
    const rows = await qb.getMany();
    return pageOf('audit', rows, limit, (a) => a.id, (a) => ({
      id: a.id,
      event_id: a.eventId,
      type: a.type,
      occurred_at: a.occurredAt.toISOString(),
      source: a.source,
      slave_id: a.slaveId,
      member_id: a.memberId,
      details: a.details,
    }));
  }
}

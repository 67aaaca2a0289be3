import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Logger, Post, Query, Res, UseGuards } from '@nestjs/common';
import type IORedis from 'ioredis';
import { REDIS, SLAVE_SEEN_KEY } from '@switchboard/redis';
import type { FastifyReply } from 'fastify';
import { AuthClient } from '@switchboard/auth-client';
import { issueSlaveKeyContract } from '@switchboard/contracts';
import { receive } from '@switchboard/runtime';
import { ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiQuery, ApiServiceUnavailableResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditEventEntity, SlaveEntity } from '@switchboard/db';
import { withoutCredentials } from '@switchboard/outbound';
import { AdminTokenGuard } from './admin-token.guard';
import { relay } from './admin-commands.controllers';
import { DeliveryQueries } from './delivery-queries';
import { MAX_MEMBER_ID, parseBoundedInt } from '@switchboard/input-rules';

class SlaveView {
  @ApiProperty() id!: number;
  @ApiProperty() url!: string;
  @ApiProperty() enabled!: boolean;
  @ApiPropertyOptional({ nullable: true, type: String }) disabled_reason!: string | null;
  @ApiProperty() registered_at!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) last_access_at!: string | null;
  @ApiProperty({ description: 'deliveries not final yet (waiting, ready, parked)' }) pending!: number;
  @ApiProperty({ description: 'dead letters' }) dead!: number;
  @ApiPropertyOptional({ nullable: true, type: String }) last_success_at!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'every delivery has failed since' }) failing_since!: string | null;
}

class AuditEventView {
  @ApiProperty() id!: string;
  @ApiProperty() event_id!: string;
  @ApiProperty({ example: 'slave_registered' }) type!: string;
  @ApiProperty() occurred_at!: string;
  @ApiProperty() source!: string;
  @ApiPropertyOptional({ nullable: true, type: Number }) slave_id!: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) member_id!: number | null;
  @ApiProperty({ type: Object }) details!: Record<string, unknown>;
}

class AuditPage {
  @ApiProperty({ type: [AuditEventView] }) items!: AuditEventView[];
  @ApiPropertyOptional({ nullable: true, type: String, description: 'pass as `before` for the next page' })
  next_before!: string | null;
}

@ApiTags('slaves')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing or wrong admin token' })
@UseGuards(AdminTokenGuard)
@Controller('admin/slaves')
export class AdminSlavesController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: IORedis,
    private readonly auth: AuthClient,
    private readonly deliveries: DeliveryQueries,
  ) {}

  private readonly logger = new Logger('AdminSlaves');

  /** Last calls the gateway answered (Redis, written by the gateway); empty while Redis is away. */
  private async seenByGateway(): Promise<Map<number, number>> {
    try {
      const all = await this.redis.hgetall(SLAVE_SEEN_KEY);
      return new Map(Object.entries(all).map(([id, ms]) => [Number(id), Number(ms)]));
    } catch (err) {
      this.logger.warn(`last access from the gateway unavailable: ${(err as Error).message}`);
      return new Map();
    }
  }

  /**
   * Issues a per-slave master key for a slave URL (spec D5): configure that slave with it instead of
   * the global key; it becomes enabled when it calls verifySettings with it. Calling again replaces
   * the key. The key is shown only in this answer.
   */
  @Post()
  @HttpCode(201)
  @ApiBody({ schema: { type: 'object', required: ['url'], properties: { url: { type: 'string', example: 'https://forum.example/applications/core/interface/ipsconnect/ipsconnect.php' } } } })
  @ApiCreatedResponse({ description: '{id, url, master_key}' })
  @ApiBadRequestResponse({ description: 'not an http(s) URL, or refused by the outbound policy: {error: "slave_url_refused", rule: scheme | credentials | address | resolution, message}' })
  @ApiServiceUnavailableResponse({ description: 'the host name could not be resolved now (error slave_url_refused, rule resolution)' })
  issueKey(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(issueSlaveKeyContract, { body: receive(issueSlaveKeyContract, body ?? {}) }));
  }

  /** Every registered slave (never its key). */
  @Get()
  @ApiOkResponse({ type: [SlaveView] })
  async list(): Promise<SlaveView[]> {
    const slaves = await this.db.getRepository(SlaveEntity).find({ order: { id: 'ASC' } });
    const stats = await this.deliveries.slaveStats();
    const seen = await this.seenByGateway();
    // Spec D4's last access: the later of auth's record (actions it ran) and the gateway's (reads).
    const lastAccess = (s: SlaveEntity) => {
      const ms = Math.max(s.lastAccessAt?.getTime() ?? 0, seen.get(s.id) ?? 0);
      return ms > 0 ? new Date(ms).toISOString() : null;
    };
    return slaves.map((s) => ({
      id: s.id,
      // Credentials are refused at registration; a slave registered with some before is listed without them.
      url: withoutCredentials(s.url),
      enabled: s.enabled,
      disabled_reason: s.disabledReason,
      registered_at: s.registeredAt.toISOString(),
      last_access_at: lastAccess(s),
      pending: stats.get(s.id)?.pending ?? 0,
      dead: stats.get(s.id)?.dead ?? 0,
      last_success_at: stats.get(s.id)?.lastSuccessAt?.toISOString() ?? null,
      failing_since: stats.get(s.id)?.failingSince?.toISOString() ?? null,
    }));
  }
}

@ApiTags('audit')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing or wrong admin token' })
@UseGuards(AdminTokenGuard)
@Controller('admin/audit')
export class AdminAuditController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The audit log, newest first. */
  @Get()
  @ApiQuery({ name: 'type', required: false, description: 'only events of this type, e.g. slave_registered' })
  @ApiQuery({ name: 'slave_id', required: false })
  @ApiQuery({ name: 'member_id', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1–500, default 100' })
  @ApiQuery({ name: 'before', required: false, description: 'only events with an id below this (paging)' })
  @ApiOkResponse({ type: AuditPage })
  async list(@Query() query: Record<string, unknown>): Promise<AuditPage> {
    const int = (name: string, min: number, max: number): number | undefined => {
      const raw = query[name];
      if (raw === undefined) return undefined;
      const value = typeof raw === 'string' ? parseBoundedInt(raw, min, max) : null;
      if (value === null) throw new BadRequestException(`${name} must be a whole number from ${min} to ${max}`);
      return value;
    };
    const limit = int('limit', 1, 500) ?? 100;
    const slaveId = int('slave_id', 1, MAX_MEMBER_ID);
    const memberId = int('member_id', 1, MAX_MEMBER_ID);
    const before = int('before', 1, Number.MAX_SAFE_INTEGER);
    const type = query['type'];
    if (type !== undefined && (typeof type !== 'string' || !/^[a-z_]{1,64}$/.test(type))) {
      throw new BadRequestException('type must be an event type such as slave_registered');
    }
    const qb = this.db.getRepository(AuditEventEntity).createQueryBuilder('a').orderBy('a.id', 'DESC').limit(limit + 1);
    if (type) qb.andWhere('a.type = :type', { type });
    if (slaveId) qb.andWhere('a.slave_id = :slaveId', { slaveId });
    if (memberId) qb.andWhere('a.member_id = :memberId', { memberId });
    if (before) qb.andWhere('a.id < :before', { before: String(before) });
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    return {
      items: page.map((a) => ({
        id: a.id,
        event_id: a.eventId,
        type: a.type,
        occurred_at: a.occurredAt.toISOString(),
        source: a.source,
        slave_id: a.slaveId,
        member_id: a.memberId,
        details: a.details,
      })),
      next_before: rows.length > limit ? page[page.length - 1].id : null,
    };
  }
}

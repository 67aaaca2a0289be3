import { BadRequestException, Controller, Get, HttpCode, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { DELIVERY_STATUSES } from '@switchboard/db';
import { DeliveryScheduler, DeliveryStore } from '@switchboard/propagation';
import { AdminTokenGuard } from './admin-token.guard';

const ID = /^[1-9][0-9]{0,17}$/;

function int(query: Record<string, unknown>, name: string, max = 2147483647): number | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d{1,19}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new BadRequestException(`${name} must be a whole number from 1 to ${max}`);
  }
  return Number(raw);
}

interface DeliveryRow {
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

const view = (d: DeliveryRow) => ({
  id: String(d.id),
  event_id: d.event_id,
  slave_id: d.slave_id,
  member_id: d.member_id,
  action: d.action,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.next_attempt_at?.toISOString() ?? null,
  last_error: d.last_error,
  created_at: d.created_at.toISOString(),
  finished_at: d.finished_at?.toISOString() ?? null,
});

@ApiTags('deliveries')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing or wrong admin token' })
@UseGuards(AdminTokenGuard)
@Controller('admin')
export class AdminDeliveriesController {
  constructor(
    private readonly store: DeliveryStore,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  /** Deliveries, newest first; `status` is one of waiting, ready, parked, delivered, dead, superseded. */
  @Get('deliveries')
  @ApiQuery({ name: 'status', required: false })
  @ApiQuery({ name: 'slave_id', required: false })
  @ApiQuery({ name: 'member_id', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1–500, default 100' })
  @ApiQuery({ name: 'before', required: false, description: 'only deliveries with an id below this (paging)' })
  @ApiOkResponse({ description: '{items, next_before}' })
  async list(@Query() query: Record<string, unknown>) {
    const status = query['status'];
    if (status !== undefined && !(DELIVERY_STATUSES as readonly unknown[]).includes(status)) {
      throw new BadRequestException(`status must be one of ${DELIVERY_STATUSES.join(', ')}`);
    }
    const limit = int(query, 'limit', 500) ?? 100;
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (status) add('status = ?', status);
    const slaveId = int(query, 'slave_id');
    if (slaveId) add('slave_id = ?', slaveId);
    const memberId = int(query, 'member_id');
    if (memberId) add('member_id = ?', memberId);
    const before = int(query, 'before', Number.MAX_SAFE_INTEGER);
    if (before) add('id < ?', String(before));
    params.push(limit + 1);
    const rows: DeliveryRow[] = await this.store.db.query(
      `SELECT * FROM deliveries ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    return { items: page.map(view), next_before: rows.length > limit ? String(page[page.length - 1].id) : null };
  }

  /** One delivery with every attempt (time, HTTP code, IPS status, error). */
  @Get('deliveries/:id')
  async get(@Param('id') id: string) {
    if (!ID.test(id)) throw new NotFoundException('no such delivery');
    const [row] = (await this.store.db.query(`SELECT * FROM deliveries WHERE id = $1`, [id])) as DeliveryRow[];
    if (!row) throw new NotFoundException('no such delivery');
    const attempts: { attempted_at: Date; duration_ms: number; http_status: number | null; ips_status: string | null; error: string | null; outcome: string }[] =
      await this.store.db.query(`SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id`, [id]);
    return {
      ...view(row),
      attempt_log: attempts.map((a) => ({
        at: a.attempted_at.toISOString(),
        duration_ms: a.duration_ms,
        http_status: a.http_status,
        ips_status: a.ips_status,
        error: a.error,
        outcome: a.outcome,
      })),
    };
  }

  /** Retries a dead letter with a fresh schedule (superseded instead if a newer value was delivered since). */
  @Post('deliveries/:id/retry')
  @HttpCode(202)
  async retry(@Param('id') id: string) {
    if (!ID.test(id)) throw new NotFoundException('no such delivery');
    const { retried, ready } = await this.store.retry({ deliveryId: id });
    if (retried.length === 0) {
      const [row] = (await this.store.db.query(`SELECT status FROM deliveries WHERE id = $1`, [id])) as { status: string }[];
      if (!row) throw new NotFoundException('no such delivery');
      throw new BadRequestException(`only dead deliveries can be retried (this one is ${row.status})`);
    }
    await this.scheduler.enqueue(ready);
    return { retried };
  }

  /** Retries every dead letter of a slave, oldest first. */
  @Post('slaves/:id/retry')
  @HttpCode(202)
  async retrySlave(@Param('id') id: string) {
    if (!/^[1-9][0-9]{0,9}$/.test(id) || Number(id) > 2147483647) throw new NotFoundException('no such slave');
    const [slave] = (await this.store.db.query(`SELECT id FROM slaves WHERE id = $1`, [Number(id)])) as { id: number }[];
    if (!slave) throw new NotFoundException('no such slave');
    const { retried, ready } = await this.store.retry({ slaveId: slave.id });
    await this.scheduler.enqueue(ready);
    return { retried };
  }
}

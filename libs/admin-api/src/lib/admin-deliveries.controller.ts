import { BadRequestException, Controller, Get, HttpCode, NotFoundException, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiServiceUnavailableResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DELIVERY_STATUSES } from '@switchboard/db';
import { relay } from './admin-commands.controllers';
import { AdminTokenGuard } from './admin-token.guard';
import { DeliveryListRow, DeliveryQueries } from './delivery-queries';
import { PropagatorClient } from './propagator-client';
import { MAX_MEMBER_ID, parseBigId, parseBoundedInt, parseId } from '@switchboard/input-rules';

function int(query: Record<string, unknown>, name: string, max = MAX_MEMBER_ID): number | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' ? parseBoundedInt(raw, 1, max) : null;
  if (value === null) throw new BadRequestException(`${name} must be a whole number from 1 to ${max}`);
  return value;
}

const view = (d: DeliveryListRow) => ({
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
    private readonly deliveries: DeliveryQueries,
    private readonly propagator: PropagatorClient,
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
    const rows = await this.deliveries.list(
      { status: status as string | undefined, slaveId: int(query, 'slave_id'), memberId: int(query, 'member_id'), before: int(query, 'before', Number.MAX_SAFE_INTEGER) },
      limit,
    );
    const page = rows.slice(0, limit);
    return { items: page.map(view), next_before: rows.length > limit ? String(page[page.length - 1].id) : null };
  }

  /** One delivery with every attempt (time, HTTP code, IPS status, error). */
  @Get('deliveries/:id')
  async get(@Param('id') id: string) {
    if (parseBigId(id) === null) throw new NotFoundException('no such delivery');
    const found = await this.deliveries.get(id);
    if (!found) throw new NotFoundException('no such delivery');
    const { delivery: row, attempts } = found;
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

  /**
   * Retries a dead letter with a fresh schedule (superseded instead if a newer value was delivered
   * since). Asked of the propagator, which alone writes deliveries; its answer is relayed.
   */
  @Post('deliveries/:id/retry')
  @HttpCode(202)
  @ApiServiceUnavailableResponse({ description: 'the propagator could not be reached' })
  async retry(@Param('id') id: string, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (parseBigId(id) === null) throw new NotFoundException('no such delivery');
    return relay(reply, this.propagator.retryDelivery(id, String(req.id)));
  }

  /** Retries every dead letter of a slave, oldest first (asked of the propagator). */
  @Post('slaves/:id/retry')
  @HttpCode(202)
  @ApiServiceUnavailableResponse({ description: 'the propagator could not be reached' })
  async retrySlave(@Param('id') id: string, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (parseId(id) === null) throw new NotFoundException('no such slave');
    return relay(reply, this.propagator.retrySlave(id, String(req.id)));
  }
}

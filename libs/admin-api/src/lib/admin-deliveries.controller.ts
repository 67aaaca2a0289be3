import { Controller, Get, NotFoundException, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { deliveriesQuery, deliveryDetailView, deliveryPage, discardDeliveryContract, retriedView } from '@switchboard/contracts';
import { parseBigId, parseId } from '@switchboard/input-rules';
import { relay } from './admin-commands.controllers';
import { AdminController, AdminRoute, Checked } from './admin-route';
import { AdminTokenGuard } from './admin-token.guard';
import { decodeCursor, pageOf } from './cursor';
import { DeliveryListRow, DeliveryQueries } from './delivery-queries';
import { PropagatorClient } from './propagator-client';

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

const DELIVERY_EXAMPLE = {
  id: '118',
  event_id: '6fa459ea-ee8a-3ca4-894e-db77e160355e',
  slave_id: 2,
  member_id: 42,
  action: 'changeEmail',
  status: 'dead',
  attempts: 10,
  next_attempt_at: null,
  last_error: 'HTTP 500',
  created_at: '2025-01-01T12:00:00.000Z',
  finished_at: '2025-01-03T08:00:00.000Z',
};

@AdminController('deliveries')
@UseGuards(AdminTokenGuard)
@Controller('admin')
export class AdminDeliveriesController {
  constructor(
    private readonly deliveries: DeliveryQueries,
    private readonly propagator: PropagatorClient,
  ) {}

  @Get('deliveries')
  @AdminRoute({
    summary: 'Deliveries',
    description: 'Deliveries of changes to slaves, newest first.',
    query: deliveriesQuery,
    response: { schema: deliveryPage, description: 'a page of deliveries', example: { items: [DELIVERY_EXAMPLE], next_cursor: 'ZGVsaXZlcmllczoxMTg' } },
  })
  async list(@Checked('query') query: z.output<typeof deliveriesQuery>) {
    const limit = query.limit ?? 100;
    const before = decodeCursor('deliveries', query.cursor);
    const rows = await this.deliveries.list({ status: query.status, slaveId: query.slave_id, memberId: query.member_id, before }, limit);
    return pageOf('deliveries', rows, limit, (d) => d.id, view);
  }

  @Get('deliveries/:id')
  @AdminRoute({
    summary: 'One delivery with every attempt',
    description: 'Each attempt: time, duration, HTTP code, IPS status, error, outcome.',
    params: { id: 'delivery id' },
    response: { schema: deliveryDetailView, description: 'the delivery', example: { ...DELIVERY_EXAMPLE, attempt_log: [{ at: '2025-01-01T12:00:00.500Z', duration_ms: 120, http_status: 500, ips_status: null, error: 'HTTP 500', outcome: 'retry' }] } },
    errors: [404],
  })
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

  @Post('deliveries/:id/retry')
  @AdminRoute({
    summary: 'Retry a delivery now',
    description:
      'A dead letter gets a fresh schedule (superseded instead if a newer value was delivered since); the head of a line waiting out its backoff (e.g. the slave is fixed) is tried now. Anything else is 409 saying why (waiting behind an earlier change, slave disabled, ended). Asked of the propagator, which alone writes deliveries.',
    params: { id: 'delivery id' },
    response: { status: 202, schema: retriedView, description: 'the deliveries retried', example: { retried: ['118'] } },
    errors: [404, 409],
  })
  async retry(@Param('id') id: string, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (parseBigId(id) === null) throw new NotFoundException('no such delivery');
    return relay(reply, this.propagator.retryDelivery(id, String(req.id)));
  }

  @Post('slaves/:id/retry')
  @AdminRoute({
    summary: "Retry a slave's deliveries now",
    description: 'Every dead letter of a slave (oldest first) and every head of its lines waiting out a backoff, now (asked of the propagator).',
    params: { id: 'slave id' },
    response: { status: 202, schema: retriedView, description: 'the deliveries retried', example: { retried: ['118', '121'] } },
    errors: [404],
  })
  async retrySlave(@Param('id') id: string, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (parseId(id) === null) throw new NotFoundException('no such slave');
    return relay(reply, this.propagator.retrySlave(id, String(req.id)));
  }

  @Post('deliveries/:id/discard')
  @AdminRoute({
    summary: 'Discard a delivery',
    description: 'A delivery that has not ended (waiting, ready, parked or dead) is never sent: it ends `discarded`, audited, and the next change of its line moves up. 409 when it has already ended.',
    params: { id: 'delivery id' },
    response: { schema: discardDeliveryContract.response, description: 'the delivery discarded', example: { discarded: '118' } },
    errors: [404, 409],
  })
  async discard(@Param('id') id: string, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (parseBigId(id) === null) throw new NotFoundException('no such delivery');
    return relay(reply, this.propagator.discardDelivery(id, String(req.id)));
  }
}

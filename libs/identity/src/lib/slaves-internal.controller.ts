import { Body, Controller, HttpCode, Inject, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InternalTokenGuard } from '@switchboard/runtime';
import { z } from 'zod';
import { CLOCK, Clock } from './clock';
import { parseOrBadRequest } from './admin-commands';
import { SlavesService } from './slaves.service';
import { parseId } from '@switchboard/input-rules';

const disableSchema = z
  .object({ reason: z.string().min(1).max(200).refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'reason must not contain control characters') })
  .strict();

/**
 * Slave commands of the other services (the propagator): auth alone writes `slaves`. The propagator
 * disables a slave that answered DISABLED / HTTP 410 or failed for too long through here, the same
 * method as the IPS `disableSlave` action.
 */
@ApiExcludeController()
@Controller('internal/slaves')
@UseGuards(InternalTokenGuard)
export class SlavesInternalController {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly slaves: SlavesService,
  ) {}

  /** 200 `{disabled}`: true when this call disabled it, false when it already was; 404 no such slave. */
  @Post(':id/disable')
  @HttpCode(200)
  async disable(@Param('id') raw: string, @Body() body: unknown) {
    const id = parseId(raw);
    const { reason } = parseOrBadRequest(disableSchema, body ?? {});
    if (id === null || !(await this.slaves.findById(id))) throw new NotFoundException('no such slave');
    return { disabled: await this.slaves.disable(id, reason, this.clock.now(), { accessed: false }) };
  }
}

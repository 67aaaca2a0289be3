import { Body, Controller, HttpCode, Inject, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { disableSlaveContract } from '@switchboard/contracts';
import { InternalTokenGuard, answer, receive } from '@switchboard/runtime';
import { CLOCK, Clock } from './clock';
import { SlavesService } from './slaves.service';
import { parseId } from '@switchboard/input-rules';

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
    const { reason } = receive(disableSlaveContract, body ?? {});
    if (id === null || !(await this.slaves.findById(id))) throw new NotFoundException('no such slave');
    return answer(disableSlaveContract, { disabled: await this.slaves.disable(id, reason, this.clock.now(), { accessed: false }) });
  }
}

import { BadRequestException, Body, ConflictException, Controller, Delete, HttpCode, Inject, NotFoundException, Param, Patch, Post, ServiceUnavailableException, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { SlaveEntity } from '@switchboard/db';
import { SlaveState, deleteSlaveContract, disableSlaveAdminContract, enableSlaveContract, updateSlaveContract } from '@switchboard/contracts';
import { parseId } from '@switchboard/input-rules';
import { InternalTokenGuard, answer, receive } from '@switchboard/runtime';
import { CLOCK, Clock } from './clock';
import { SlaveUrlGuard } from './slave-url-guard';
import { SlavesService } from './slaves.service';

export function slaveState(s: SlaveEntity): SlaveState {
  return { id: s.id, url: s.url, enabled: s.enabled, disabled_reason: s.disabledReason, verified: s.slaveKeySealed !== null };
}

/**
 * The slave lifecycle behind the admin API (auth alone writes `slaves`): disable (the one disable
 * path), enable, change URL. The propagator parks and resumes the slave's deliveries from the row's
 * state (docs/propagation.md).
 */
@ApiExcludeController()
@Controller('internal/admin/slaves')
@UseGuards(InternalTokenGuard)
export class SlaveAdminController {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly slaves: SlavesService,
    private readonly slaveUrls: SlaveUrlGuard,
  ) {}

  private async slave(raw: string): Promise<SlaveEntity> {
    const id = parseId(raw);
    const slave = id === null ? null : await this.slaves.findById(id);
    if (!slave) throw new NotFoundException('no such slave');
    return slave;
  }

  /** 200 its state (already disabled: unchanged); 404. */
  @Post(':id/disable')
  @HttpCode(200)
  async disable(@Param('id') raw: string, @Body() body: unknown) {
    const cmd = receive(disableSlaveAdminContract, body ?? {});
    const slave = await this.slave(raw);
    await this.slaves.disable(slave.id, `admin${cmd.reason ? `: ${cmd.reason}` : ''}`, this.clock.now(), { accessed: false });
    return answer(disableSlaveAdminContract, slaveState((await this.slaves.findById(slave.id))!));
  }

  /** 200 its state; 409 `not_verified` (it never called verifySettings); 404. */
  @Post(':id/enable')
  @HttpCode(200)
  async enable(@Param('id') raw: string) {
    const slave = await this.slave(raw);
    const outcome = await this.slaves.enable(slave.id, this.clock.now());
    if (outcome === 'not_found') throw new NotFoundException('no such slave');
    if (outcome === 'unverified') {
      throw new ConflictException({ statusCode: 409, error: 'not_verified', message: 'the slave has not registered its key yet (verifySettings): it cannot receive deliveries' });
    }
    return answer(enableSlaveContract, slaveState((await this.slaves.findById(slave.id))!));
  }

  /** 204; 404. */
  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') raw: string) {
    const slave = await this.slave(raw);
    if (!(await this.slaves.delete(slave.id, this.clock.now()))) throw new NotFoundException('no such slave');
    answer(deleteSlaveContract, undefined);
  }

  /** 200 its state; 400 refused by the outbound policy (503 when DNS cannot answer now); 409 `url_in_use`; 404. */
  @Patch(':id')
  async update(@Param('id') raw: string, @Body() body: unknown) {
    const cmd = receive(updateSlaveContract, body ?? {});
    const slave = await this.slave(raw);
    const refusal = await this.slaveUrls.refusal(cmd.url, 'admin', null);
    if (refusal) {
      const detail = { error: 'slave_url_refused', rule: refusal.rule, message: [`url: refused by the outbound policy (rule: ${refusal.rule}): ${refusal.message}`] };
      throw refusal.temporary ? new ServiceUnavailableException({ statusCode: 503, ...detail }) : new BadRequestException({ statusCode: 400, ...detail });
    }
    const outcome = await this.slaves.changeUrl(slave.id, cmd.url, this.clock.now());
    if (outcome === 'not_found') throw new NotFoundException('no such slave');
    if (outcome === 'in_use') throw new ConflictException({ statusCode: 409, error: 'url_in_use', message: 'another slave has this URL' });
    return answer(updateSlaveContract, slaveState((await this.slaves.findById(slave.id))!));
  }
}

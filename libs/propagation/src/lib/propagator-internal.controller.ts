import { BadRequestException, Controller, HttpCode, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { retryDeliveryContract, retrySlaveContract } from '@switchboard/contracts';
import { InternalTokenGuard, answer } from '@switchboard/runtime';
import { DeliveryRetries } from './delivery-retries';
import { DeliveryScheduler } from './delivery-scheduler';
import { parseBigId, parseId } from '@switchboard/input-rules';


/**
 * The propagator's internal routes (INTERNAL_TOKEN, like auth's): the admin API asks for retries of
 * dead letters here, as the propagator alone writes deliveries. Answers are relayed by admin as
 * they are (docs/propagation.md, "Admin API").
 */
@Controller('internal')
@UseGuards(InternalTokenGuard)
export class PropagatorInternalController {
  constructor(
    private readonly retries: DeliveryRetries,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  /** 202 `{retried: [id]}`; 404 no such delivery; 400 not dead. */
  @Post('deliveries/:id/retry')
  @HttpCode(202)
  async retryDelivery(@Param('id') id: string) {
    if (parseBigId(id) === null) throw new NotFoundException('no such delivery');
    const { retried, ready } = await this.retries.retry({ deliveryId: id });
    if (retried.length === 0) {
      const status = await this.retries.status(id);
      if (!status) throw new NotFoundException('no such delivery');
      throw new BadRequestException(`only dead deliveries can be retried (this one is ${status})`);
    }
    await this.scheduler.enqueue(ready);
    return answer(retryDeliveryContract, { retried });
  }

  /** 202 `{retried: [id…]}` (every dead letter of the slave, oldest first); 404 no such slave. */
  @Post('slaves/:id/retry')
  @HttpCode(202)
  async retrySlave(@Param('id') id: string) {
    const slaveId = parseId(id);
    if (slaveId === null || !(await this.retries.slaveExists(slaveId))) throw new NotFoundException('no such slave');
    const { retried, ready } = await this.retries.retry({ slaveId });
    await this.scheduler.enqueue(ready);
    return answer(retrySlaveContract, { retried });
  }
}

import { ConflictException, Controller, HttpCode, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { discardDeliveryContract, retryDeliveryContract, retrySlaveContract } from '@switchboard/contracts';
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

  /**
   * 202 `{retried: [id]}`: a dead delivery gets a fresh series, the head of a line waiting out its
   * backoff is tried now; 404 no such delivery; 409 anything else (waiting behind another, parked,
   * ended), saying why.
   */
  @Post('deliveries/:id/retry')
  @HttpCode(202)
  async retryDelivery(@Param('id') id: string) {
    if (parseBigId(id) === null) throw new NotFoundException('no such delivery');
    const dead = await this.retries.retry({ deliveryId: id });
    const now = dead.retried.length ? { retried: [], ready: [] } : await this.retries.retryNowReady({ deliveryId: id });
    const retried = [...dead.retried, ...now.retried];
    if (retried.length === 0) {
      const status = await this.retries.status(id);
      if (!status) throw new NotFoundException('no such delivery');
      const why =
        status === 'waiting'
          ? 'it waits behind an earlier change of its line: retry that one'
          : status === 'parked'
            ? 'its slave is disabled: enable the slave'
            : status === 'ready'
              ? 'it is being sent now'
              : `it has ended (${status})`;
      throw new ConflictException({ statusCode: 409, error: 'not_retryable', message: `this delivery cannot be retried now: ${why}` });
    }
    await this.scheduler.enqueue([...dead.ready, ...now.ready]);
    return answer(retryDeliveryContract, { retried });
  }

  /** 202 `{retried: [id…]}`: every dead letter of the slave (oldest first) and every head of its lines waiting out a backoff, now; 404 no such slave. */
  @Post('slaves/:id/retry')
  @HttpCode(202)
  async retrySlave(@Param('id') id: string) {
    const slaveId = parseId(id);
    if (slaveId === null || !(await this.retries.slaveExists(slaveId))) throw new NotFoundException('no such slave');
    const dead = await this.retries.retry({ slaveId });
    const now = await this.retries.retryNowReady({ slaveId });
    await this.scheduler.enqueue([...dead.ready, ...now.ready]);
    return answer(retrySlaveContract, { retried: [...dead.retried, ...now.retried].sort((a, b) => Number(a) - Number(b)) });
  }

  /** 200 `{discarded: id}`: never sent, the next of its line moves up; 404 no such delivery; 409 already ended. */
  @Post('deliveries/:id/discard')
  @HttpCode(200)
  async discard(@Param('id') id: string) {
    if (parseBigId(id) === null) throw new NotFoundException('no such delivery');
    const done = await this.retries.discard(id);
    if (!done) {
      const status = await this.retries.status(id);
      if (!status) throw new NotFoundException('no such delivery');
      throw new ConflictException({ statusCode: 409, error: 'already_ended', message: `this delivery has ended (${status})` });
    }
    await this.scheduler.enqueue(done.ready);
    return answer(discardDeliveryContract, { discarded: id });
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import type IORedis from 'ioredis';
import { REDIS } from '@switchboard/redis';
import { DomainEvent, EVENT_STREAM, EVENT_STREAM_MAXLEN } from './domain-event';

/**
 * Emits an event straight to the Redis event stream, without a database transaction: for events
 * that record a check and change no table (a refused key). The admin's audit recorder reads them
 * like relayed ones. While Redis is away they are logged as warnings and not recorded (the call
 * itself is answered as it would be): docs/hardening.md lists this among what fails open.
 */
@Injectable()
export class StreamEmitter {
  private readonly logger = new Logger('Events');

  constructor(@Inject(REDIS) private readonly redis: IORedis) {}

  async emit(event: DomainEvent): Promise<void> {
    try {
      await this.redis.xadd(EVENT_STREAM, 'MAXLEN', '~', String(EVENT_STREAM_MAXLEN), '*', 'event', JSON.stringify(event));
    } catch (err) {
      this.logger.warn(`event ${event.type} not recorded: the event stream is unavailable: ${(err as Error).message}`);
    }
  }
}

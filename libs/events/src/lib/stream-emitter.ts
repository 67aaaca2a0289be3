import { Inject, Injectable, Logger } from '@nestjs/common';
import type IORedis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import { REDIS } from '@switchboard/redis';
import { DomainEvent, EVENT_STREAM_MAXLEN, EventWriter, eventStream } from './domain-event';

export const STREAM_EMITTER_WRITER = Symbol('STREAM_EMITTER_WRITER');

/**
 * Emits an event straight to its service's Redis event stream (`eventStream(writer)`, the writer
 * given by StreamEmitterModule.forRoot in the app), without a database transaction: for events
 * that record a check and change no table (a refused key). The admin's audit recorder reads them
 * like relayed ones. While Redis is away they are logged as warnings and not recorded (the call
 * itself is answered as it would be): docs/hardening.md lists this among what fails open.
 */
@Injectable()
export class StreamEmitter {
  private readonly logger = new Logger('Events');

  private readonly stream: string;

  constructor(
    @Inject(REDIS) private readonly redis: IORedis,
    @Inject(STREAM_EMITTER_WRITER) writer: EventWriter,
  ) {
    this.stream = eventStream(writer);
  }

  async emit(event: DomainEvent): Promise<void> {
    try {
      await this.redis.xadd(this.stream, 'MAXLEN', '~', String(EVENT_STREAM_MAXLEN), '*', 'event', JSON.stringify(event));
    } catch (err) {
      this.notRecorded(event, err as Error);
    }
  }

  /**
   * Queues the event's XADD on `batch` (a MULTI or pipeline of the caller's, on this service's Redis
   * connection), so that it travels with the caller's own commands in one round trip. The caller
   * executes the batch and hands each event's reply (`[error, id]`, in the order added) to
   * `settled`, which logs what was not recorded, as `emit` does.
   */
  append(batch: ChainableCommander, event: DomainEvent): ChainableCommander {
    return batch.xadd(this.stream, 'MAXLEN', '~', String(EVENT_STREAM_MAXLEN), '*', 'event', JSON.stringify(event));
  }

  /** After a batch with appended events: a warning for each event that was not recorded. */
  settled(event: DomainEvent, error: Error | null | undefined): void {
    if (error) this.notRecorded(event, error);
  }

  private notRecorded(event: DomainEvent, err: Error): void {
    this.logger.warn(`event ${event.type} not recorded: the event stream is unavailable: ${err.message}`);
  }
}

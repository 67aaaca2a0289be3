import { DynamicModule, Global, Module } from '@nestjs/common';
import type { EventWriter } from './domain-event';
import { OUTBOX_PUBLISHER_OPTIONS, OutboxPublisher, OutboxPublisherOptions } from './outbox-publisher';
import { STREAM_EMITTER_WRITER, StreamEmitter } from './stream-emitter';

@Module({})
export class OutboxPublisherModule {
  /**
   * Runs the outbox → Redis stream relay of the outbox this service writes (options.outbox), to this
   * service's own stream (options.writer).
   */
  static forRoot(options: OutboxPublisherOptions): DynamicModule {
    return {
      module: OutboxPublisherModule,
      providers: [{ provide: OUTBOX_PUBLISHER_OPTIONS, useValue: options }, OutboxPublisher],
      exports: [OutboxPublisher],
    };
  }
}

/** The StreamEmitter of a service that emits events changing no table, to its own stream. */
@Global()
@Module({})
export class StreamEmitterModule {
  static forRoot(writer: EventWriter): DynamicModule {
    return {
      module: StreamEmitterModule,
      providers: [{ provide: STREAM_EMITTER_WRITER, useValue: writer }, StreamEmitter],
      exports: [StreamEmitter],
    };
  }
}

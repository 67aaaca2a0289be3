import { DynamicModule, Module } from '@nestjs/common';
import { OUTBOX_PUBLISHER_OPTIONS, OutboxPublisher, OutboxPublisherOptions } from './outbox-publisher';

@Module({})
export class OutboxPublisherModule {
  /** Runs the outbox → Redis stream relay of the outbox this service writes (options.outbox). */
  static forRoot(options: OutboxPublisherOptions): DynamicModule {
    return {
      module: OutboxPublisherModule,
      providers: [{ provide: OUTBOX_PUBLISHER_OPTIONS, useValue: options }, OutboxPublisher],
      exports: [OutboxPublisher],
    };
  }
}

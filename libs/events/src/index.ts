export * from './lib/domain-event';
export * from './lib/outbox';
export * from './lib/outbox-publisher';
export * from './lib/event-consumer';
export * from './lib/events.module';
export * from './lib/outbox-waker';
export * from './lib/stream-emitter';

export * from './lib/queue';
export * from './lib/delivery.processor';
export * from './lib/propagation.module';

export * from './lib/connections';
export * from './lib/redis.module';
export * from './lib/shared-keys';

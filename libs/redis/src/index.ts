export * from './lib/connections';
export * from './lib/redis.module';

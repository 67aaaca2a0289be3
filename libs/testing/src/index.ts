export * from './lib/stores';
export * from './lib/log-capture';
export * from './lib/wait';
export * from './lib/private-redis';

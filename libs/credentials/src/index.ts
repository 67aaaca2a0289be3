export * from './lib/passwords';
export * from './lib/hash-pool';
export * from './lib/lockout';

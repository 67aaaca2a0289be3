export * from './lib/address';
export * from './lib/policy';

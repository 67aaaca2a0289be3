export * from './lib/signature';
export * from './lib/envelope';
export * from './lib/errors';
export * from './lib/permissions';
export * from './lib/methods';

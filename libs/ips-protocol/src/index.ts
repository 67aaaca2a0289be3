export * from './lib/protocol';
export * from './lib/params';
export * from './lib/php-json';
export * from './lib/keyring';
export * from './lib/id-lookup';

export * from './lib/protocol';
export * from './lib/params';
export * from './lib/php-json';
export * from './lib/browser-chain';
export * from './lib/actions.service';
export * from './lib/gateway.controller';
export * from './lib/ips-connect.module';

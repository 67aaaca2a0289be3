export * from './lib/browser-chain';
export * from './lib/gateway.controller';
export * from './lib/gateway-keyring';
export * from './lib/member-reads';
export * from './lib/read-actions';
export * from './lib/slave-seen';
export * from './lib/ips-connect.module';
export * from './lib/login-gate';

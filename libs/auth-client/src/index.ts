export * from './lib/auth-client';
export * from './lib/auth-client.module';

export * from './lib/schema';
export * from './lib/load-config';
export * from './lib/config.module';
export * from './lib/cli-settings';

export * from './lib/actions.service';
export * from './lib/ips-actions.module';

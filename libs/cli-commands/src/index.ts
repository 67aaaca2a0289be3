export * from './lib/cli.module';
export * from './lib/cli-error';
export * from './lib/cli-command';
export { backupPlan, shellQuote } from './lib/commands/backup.command';
export { freshSecret } from './lib/commands/secrets.command';

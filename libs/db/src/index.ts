export * from './lib/entities';
export * from './lib/migrations';
export * from './lib/data-source-options';
export * from './lib/migrate';
export * from './lib/db.module';
export * from './lib/keyring-version';

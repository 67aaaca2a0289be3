import type { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** The one definition of how Switchboard talks to PostgreSQL. `synchronize` is never on. */
export function dataSourceOptions(databaseUrl: string, applicationName = 'switchboard', poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    applicationName,
    extra: { max: poolSize, connectionTimeoutMillis: 5000 },
  };
}

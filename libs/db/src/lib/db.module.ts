import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptions } from './data-source-options';

@Module({})
export class DbModule {
  /** The service's PostgreSQL connection. Services never migrate; the migrator does. */
  static forRoot(databaseUrl: string, applicationName: string, poolSize = 10): DynamicModule {
    return {
      module: DbModule,
      imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl, applicationName, poolSize), retryAttempts: 3, retryDelay: 1000 })],
      exports: [TypeOrmModule],
    };
  }
}

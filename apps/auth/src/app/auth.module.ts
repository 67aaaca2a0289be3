import { DynamicModule, Module } from '@nestjs/common';
import { AppApiAuthModule } from '@switchboard/app-api';
import { ConfigModule, ServiceConfig } from '@switchboard/config';
import { DbModule } from '@switchboard/db';
import { OutboxPublisherModule } from '@switchboard/events';
import { Clock, IdentityModule } from '@switchboard/identity';
import { IpsConnectActionsModule } from '@switchboard/ips-actions';
import { RedisModule } from '@switchboard/redis';
import { DatabaseCheck, HealthModule, MetricsModule, RedisCheck, loggingModule } from '@switchboard/runtime';
import type { DestinationStream } from 'pino';

/** Owns members, credentials, keys and slaves; the only writer of those tables. Internal only. */
@Module({})
export class AuthModule {
  static forRoot(config: ServiceConfig<'auth'>, options: { logStream?: DestinationStream; clock?: Clock } = {}): DynamicModule {
    return {
      module: AuthModule,
      imports: [
        ConfigModule.forRoot(config),
        loggingModule({ service: 'auth', level: config.LOG_LEVEL, stream: options.logStream }),
        MetricsModule.forRoot('auth'),
        DbModule.forRoot(config.DATABASE_URL, 'switchboard-auth'),
        RedisModule.forRoot(config.REDIS_URL, 'switchboard-auth'),
        HealthModule.forRoot([DatabaseCheck, RedisCheck]),
        IdentityModule.forRoot({
          secretsKey: config.SECRETS_KEY,
          internalToken: config.INTERNAL_TOKEN,
          masterKey: config.MASTER_KEY,
          publicUrl: config.PUBLIC_URL,
          recentAuthMs: config.CROSSLOGIN_RECENT_AUTH,
          slaveUrlAllowPrivate: config.SLAVE_URL_ALLOW_PRIVATE,
          clock: options.clock,
        }),
        OutboxPublisherModule.forRoot({ writer: 'auth', databaseUrl: config.DATABASE_URL, pollMs: 1000, batchSize: 200 }),
        IpsConnectActionsModule,
        AppApiAuthModule.forRoot(),
      ],
    };
  }
}

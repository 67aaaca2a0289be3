import { DynamicModule, Module } from '@nestjs/common';
import { AppApiGatewayModule } from '@switchboard/app-api';
import { AuthClient, AuthClientModule, AuthServiceCheck } from '@switchboard/auth-client';
import { ConfigModule, ServiceConfig } from '@switchboard/config';
import { DbModule } from '@switchboard/db';
import { StreamEmitterModule } from '@switchboard/events';
import { IpsConnectGatewayModule } from '@switchboard/ips-connect';
import { RedisModule } from '@switchboard/redis';
import { DatabaseCheck, HealthModule, MetricsModule, RedisCheck, loggingModule } from '@switchboard/runtime';
import type { Clock } from '@switchboard/identity';
import type { DestinationStream } from 'pino';

/** The public edge: IPS Connect and the application API. Answers read actions and API reads itself; changes run in auth. */
@Module({})
export class GatewayModule {
  static forRoot(config: ServiceConfig<'gateway'>, options: { logStream?: DestinationStream; clock?: Clock } = {}): DynamicModule {
    const now = options.clock ? () => options.clock!.now() : () => new Date();
    return {
      module: GatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        // Request lines from a Fastify hook, no per-request logging context: the hot path (docs/architecture.md).
        loggingModule({ service: 'gateway', level: config.LOG_LEVEL, stream: options.logStream, httpRequests: 'hook' }),
        // The gateway's port is public: /metrics only with METRICS_TOKEN (docs/hardening.md).
        MetricsModule.forRoot('gateway', { bearerTokens: config.METRICS_TOKEN ? [config.METRICS_TOKEN] : [] }),
        // Read-only use: members, settings, app_tokens and app_grants for the reads (docs/architecture.md).
        DbModule.forRoot(config.DATABASE_URL, 'switchboard-gateway'),
        RedisModule.forRoot(config.REDIS_URL, 'switchboard-gateway'),
        AuthClientModule.forRoot({ baseUrl: config.AUTH_URL, internalToken: config.INTERNAL_TOKEN }),
        HealthModule.forRoot([DatabaseCheck, RedisCheck, AuthServiceCheck]),
        // Events that change no table (a refused key, logins), to the gateway's own event stream.
        StreamEmitterModule.forRoot('gateway'),
        AppApiGatewayModule.forRoot(AuthClient, IpsConnectGatewayModule.forRoot(
            AuthClient,
            { publicUrl: config.PUBLIC_URL, stateSecret: config.INTERNAL_TOKEN },
            {
              lockout: { threshold: config.LOGIN_LOCK_THRESHOLD, windowMs: config.LOGIN_LOCK_WINDOW, baseMs: config.LOGIN_LOCK_BASE, maxMs: config.LOGIN_LOCK_MAX },
              callerLimitPerMinute: config.LOGIN_CALLER_LIMIT,
              recentAuthMs: config.CROSSLOGIN_RECENT_AUTH,
              now,
            },
          ), {
          clientLimitPerMinute: config.API_CLIENT_LIMIT,
          tokenIdleMs: config.API_TOKEN_IDLE,
          clock: options.clock,
        }),
      ],
    };
  }
}

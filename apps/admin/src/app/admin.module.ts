import { DynamicModule, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ADMIN_API_DESCRIPTION, ADMIN_API_TITLE, AdminApiModule, AdminAuthenticator, adminOpenApiDocument, mountQueueDashboard } from '@switchboard/admin-api';
import { AuthClientModule, AuthServiceCheck } from '@switchboard/auth-client';
import { ConfigModule, ServiceConfig } from '@switchboard/config';
import { DbModule } from '@switchboard/db';
import { RedisModule } from '@switchboard/redis';
import { DatabaseCheck, HealthModule, MetricsModule, RedisCheck, type ServiceAppOptions, loggingModule } from '@switchboard/runtime';
import type { DestinationStream } from 'pino';

/** The admin REST API and the audit log it keeps from the event stream. */
@Module({})
export class AdminModule {
  /**
   * `adminAuthFailLimit`: failed admin authentications per address and minute (default 20); the
   * ADMIN_AUTH_FAIL_LIMIT setting once libs/config has it (tests pass it here).
   */
  static forRoot(config: ServiceConfig<'admin'>, options: { logStream?: DestinationStream; adminAuthFailLimit?: number } = {}): DynamicModule {
    return {
      module: AdminModule,
      imports: [
        ConfigModule.forRoot(config),
        loggingModule({ service: 'admin', level: config.LOG_LEVEL, stream: options.logStream }),
        // The admin port is public: /metrics only with METRICS_TOKEN or ADMIN_TOKEN (docs/hardening.md).
        MetricsModule.forRoot('admin', { bearerTokens: [config.ADMIN_TOKEN, ...(config.METRICS_TOKEN ? [config.METRICS_TOKEN] : [])] }),
        DbModule.forRoot(config.DATABASE_URL, 'switchboard-admin'),
        RedisModule.forRoot(config.REDIS_URL, 'switchboard-admin'),
        // The auth service is watched (its outages logged) but not part of readiness: reads go on without it.
        HealthModule.forRoot([DatabaseCheck, RedisCheck], { also: [AuthServiceCheck] }),
        AuthClientModule.forRoot({ baseUrl: config.AUTH_URL, internalToken: config.INTERNAL_TOKEN }),
        AdminApiModule.forRoot({
          adminToken: config.ADMIN_TOKEN,
          redisUrl: config.REDIS_URL,
          propagatorUrl: config.PROPAGATOR_URL,
          internalToken: config.INTERNAL_TOKEN,
          authFailLimit: options.adminAuthFailLimit ?? config.ADMIN_AUTH_FAIL_LIMIT,
        }),
      ],
    };
  }
}

/**
 * How the admin service is built around its module (main.ts, and the system tests, alike): client
 * addresses through TRUST_PROXY; the OpenAPI document and its UI, and the queue dashboard at
 * /admin/queues, behind the same admin authentication as every route (the admin port is public).
 */
export function adminAppOptions(config: ServiceConfig<'admin'>): ServiceAppOptions {
  return {
    trustProxy: config.TRUST_PROXY,
    docs: {
      title: ADMIN_API_TITLE,
      description: ADMIN_API_DESCRIPTION,
      access: (app: NestFastifyApplication) => {
        const authenticator = app.get(AdminAuthenticator);
        return (request) => authenticator.allows(request as never);
      },
      document: adminOpenApiDocument,
    },
    mount: (app) => mountQueueDashboard(app, config.REDIS_URL),
  };
}

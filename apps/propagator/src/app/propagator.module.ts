import { DynamicModule, Module } from '@nestjs/common';
import { AuthClientModule, AuthServiceCheck } from '@switchboard/auth-client';
import { ConfigModule, ServiceConfig } from '@switchboard/config';
import { DbModule } from '@switchboard/db';
import { OutboxPublisherModule, PROPAGATOR_OUTBOX } from '@switchboard/events';
import { PropagationClock, PropagationWorkerModule, WorkerCheck } from '@switchboard/propagation';
import { RedisModule } from '@switchboard/redis';
import { DatabaseCheck, HealthModule, MetricsModule, RedisCheck, loggingModule } from '@switchboard/runtime';
import type { DestinationStream } from 'pino';

/**
 * The BullMQ worker delivering changes to slaves; serves /health, /metrics and its internal routes
 * (dead-letter retries, INTERNAL_TOKEN). Writes only its own tables (deliveries, delivery_attempts,
 * propagation_changes, slave_delivery_health, propagator_outbox) and publishes its outbox; slaves
 * are disabled through auth.
 */
@Module({})
export class PropagatorModule {
  static forRoot(config: ServiceConfig<'propagator'>, options: { logStream?: DestinationStream; clock?: PropagationClock } = {}): DynamicModule {
    return {
      module: PropagatorModule,
      imports: [
        ConfigModule.forRoot(config),
        // /health, /metrics and the rare internal calls are never logged: no per-request context (see httpRequests).
        loggingModule({ service: 'propagator', level: config.LOG_LEVEL, stream: options.logStream, httpRequests: false }),
        MetricsModule.forRoot('propagator'),
        // Enough connections for the worker's concurrency (each delivery makes a few short queries).
        DbModule.forRoot(config.DATABASE_URL, 'switchboard-propagator', Math.min(50, Math.max(10, Math.ceil(config.PROPAGATION_CONCURRENCY / 2)))),
        RedisModule.forRoot(config.REDIS_URL, 'switchboard-propagator'),
        AuthClientModule.forRoot({ baseUrl: config.AUTH_URL, internalToken: config.INTERNAL_TOKEN }),
        // Its own audit events (delivery_dead, delivery_retried) reach the event stream from its own outbox.
        OutboxPublisherModule.forRoot({ writer: 'propagator', outbox: PROPAGATOR_OUTBOX, databaseUrl: config.DATABASE_URL, pollMs: 1000, batchSize: 200 }),
        PropagationWorkerModule.forRoot({
          databaseUrl: config.DATABASE_URL,
          redisUrl: config.REDIS_URL,
          secretsKey: config.SECRETS_KEY,
          internalToken: config.INTERNAL_TOKEN,
          schedule: config.PROPAGATION_RETRY_SCHEDULE,
          timeoutMs: config.PROPAGATION_TIMEOUT,
          concurrency: config.PROPAGATION_CONCURRENCY,
          autoDisableAfterMs: config.PROPAGATION_AUTO_DISABLE_AFTER,
          repairIntervalMs: config.PROPAGATION_REPAIR_INTERVAL,
          slaveUrlAllowPrivate: config.SLAVE_URL_ALLOW_PRIVATE,
          clock: options.clock,
        }),
        // The auth service is watched (its outages logged) but not part of readiness: deliveries go on without it.
        HealthModule.forRoot([DatabaseCheck, RedisCheck, WorkerCheck], { also: [AuthServiceCheck] }),
      ],
    };
  }
}

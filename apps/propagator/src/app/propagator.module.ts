import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ServiceConfig } from '@switchboard/config';
import { DbModule } from '@switchboard/db';
import { PropagationClock, PropagationWorkerModule, WorkerCheck } from '@switchboard/propagation';
import { RedisModule } from '@switchboard/redis';
import { DatabaseCheck, HealthModule, MetricsModule, RedisCheck, loggingModule } from '@switchboard/runtime';
import type { DestinationStream } from 'pino';

/** The BullMQ worker delivering changes to slaves; serves only /health and /metrics. */
@Module({})
export class PropagatorModule {
  static forRoot(config: ServiceConfig<'propagator'>, options: { logStream?: DestinationStream; clock?: PropagationClock } = {}): DynamicModule {
    return {
      module: PropagatorModule,
      imports: [
        ConfigModule.forRoot(config),
        // Only /health and /metrics are served, and never logged: no per-request context (see httpRequests).
        loggingModule({ service: 'propagator', level: config.LOG_LEVEL, stream: options.logStream, httpRequests: false }),
        MetricsModule.forRoot('propagator'),
        // Enough connections for the worker's concurrency (each delivery makes a few short queries).
        DbModule.forRoot(config.DATABASE_URL, 'switchboard-propagator', Math.min(50, Math.max(10, Math.ceil(config.PROPAGATION_CONCURRENCY / 2)))),
        RedisModule.forRoot(config.REDIS_URL, 'switchboard-propagator'),
        PropagationWorkerModule.forRoot({
          databaseUrl: config.DATABASE_URL,
          redisUrl: config.REDIS_URL,
          secretsKey: config.SECRETS_KEY,
          schedule: config.PROPAGATION_RETRY_SCHEDULE,
          timeoutMs: config.PROPAGATION_TIMEOUT,
          concurrency: config.PROPAGATION_CONCURRENCY,
          autoDisableAfterMs: config.PROPAGATION_AUTO_DISABLE_AFTER,
          repairIntervalMs: config.PROPAGATION_REPAIR_INTERVAL,
          slaveUrlAllowPrivate: config.SLAVE_URL_ALLOW_PRIVATE,
          clock: options.clock,
        }),
        HealthModule.forRoot([DatabaseCheck, RedisCheck, WorkerCheck]),
      ],
    };
  }
}

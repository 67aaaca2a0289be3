import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { SecretBox } from '@switchboard/crypto';
import { OutboundPolicy } from '@switchboard/outbound';
import { consumerConnectionOptions, producerConnectionOptions } from '@switchboard/redis';
import { DeliveryScheduler } from './delivery-scheduler';
import { DeliveryStore } from './delivery-store';
import { DeliveryProcessor, WorkerCheck, activeSchedule } from './delivery.processor';
import { OutboxRelay } from './outbox-relay';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { PropagationMetrics } from './propagation-metrics';
import { DELIVERY_JOB_OPTIONS, DELIVERY_QUEUE } from './queue';
import { SlaveHttp } from './slave-http';

/** ioredis options from a redis:// URL (BullMQ takes a connection object). */
export function redisConnection(redisUrl: string, kind: 'consumer' | 'producer') {
  const url = new URL(redisUrl);
  return {
    ...(kind === 'consumer' ? consumerConnectionOptions() : producerConnectionOptions()),
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: Number(url.pathname.replace('/', '') || 0),
    tls: url.protocol === 'rediss:' ? {} : undefined,
  };
}

/** The propagator: outbox relay, BullMQ worker, repair pass, metrics (global: health checks use it). */
@Global()
@Module({})
export class PropagationWorkerModule {
  static forRoot(options: PropagationOptions & { secretsKey: string }): DynamicModule {
    activeSchedule.delays = options.schedule;
    const { secretsKey, ...propagation } = options;
    return {
      module: PropagationWorkerModule,
      imports: [
        BullModule.forRoot({ connection: redisConnection(options.redisUrl, 'consumer'), defaultJobOptions: DELIVERY_JOB_OPTIONS }),
        BullModule.registerQueue({ name: DELIVERY_QUEUE }),
      ],
      providers: [
        { provide: PROPAGATION_OPTIONS, useValue: propagation },
        { provide: SecretBox, useValue: new SecretBox(secretsKey) },
        // Every connection to a slave passes the outbound policy (docs/propagation.md).
        { provide: SlaveHttp, useFactory: () => new SlaveHttp(new OutboundPolicy({ allowPrivate: options.slaveUrlAllowPrivate ?? false })) },
        DeliveryStore,
        DeliveryScheduler,
        PropagationMetrics,
        DeliveryProcessor,
        OutboxRelay,
      ],
      exports: [DeliveryProcessor, DeliveryStore, DeliveryScheduler, OutboxRelay],
    };
  }
}

/** What the admin service needs to retry dead letters: the store and a producer on the queue. */
@Module({})
export class DeliveryAdminModule {
  static forRoot(options: Pick<PropagationOptions, 'schedule' | 'redisUrl' | 'databaseUrl'>): DynamicModule {
    return {
      module: DeliveryAdminModule,
      global: true,
      imports: [
        BullModule.forRoot('delivery-producer', { connection: redisConnection(options.redisUrl, 'producer'), defaultJobOptions: DELIVERY_JOB_OPTIONS }),
        BullModule.registerQueue({ name: DELIVERY_QUEUE, configKey: 'delivery-producer' }),
      ],
      providers: [
        {
          provide: PROPAGATION_OPTIONS,
          useValue: { ...options, timeoutMs: 0, concurrency: 0, autoDisableAfterMs: 0, repairIntervalMs: 0 } satisfies PropagationOptions,
        },
        DeliveryStore,
        DeliveryScheduler,
      ],
      exports: [DeliveryStore, DeliveryScheduler],
    };
  }
}

export { WorkerCheck };

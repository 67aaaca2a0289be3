import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { SecretBox } from '@switchboard/crypto';
import { OutboundPolicy } from '@switchboard/outbound';
import { consumerConnectionOptions, producerConnectionOptions } from '@switchboard/redis';
import { INTERNAL_TOKEN, InternalTokenGuard } from '@switchboard/runtime';
import { ChangeRelay } from './change-relay';
import { DeliveryAttempts } from './delivery-attempts';
import { DeliveryLines } from './delivery-lines';
import { DeliveryMaintenance } from './delivery-maintenance';
import { DeliveryRetries } from './delivery-retries';
import { DeliveryScheduler } from './delivery-scheduler';
import { PropagatorInternalController } from './propagator-internal.controller';
import { SlaveDisabler } from './slave-disabler';
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
    // Named like every Switchboard connection (CLIENT LIST; e2e/src/architecture.spec.ts).
    connectionName: 'switchboard-propagator-bullmq',
  };
}

/**
 * The propagator: outbox relay, BullMQ worker, repair pass, metrics, internal routes (global: health
 * checks use it). Needs AuthClient (AuthClientModule) to have slaves disabled.
 */
@Global()
@Module({})
export class PropagationWorkerModule {
  static forRoot(options: PropagationOptions & { secretsKey: string; internalToken: string }): DynamicModule {
    activeSchedule.delays = options.schedule;
    const { secretsKey, internalToken, ...propagation } = options;
    return {
      module: PropagationWorkerModule,
      controllers: [PropagatorInternalController],
      imports: [
        BullModule.forRoot({ connection: redisConnection(options.redisUrl, 'consumer'), defaultJobOptions: DELIVERY_JOB_OPTIONS }),
        BullModule.registerQueue({ name: DELIVERY_QUEUE }),
      ],
      providers: [
        { provide: PROPAGATION_OPTIONS, useValue: propagation },
        { provide: SecretBox, useValue: new SecretBox(secretsKey) },
        // Every connection to a slave passes the outbound policy (docs/propagation.md).
        { provide: SlaveHttp, useFactory: () => new SlaveHttp(new OutboundPolicy({ allowPrivate: options.slaveUrlAllowPrivate ?? false })) },
        { provide: INTERNAL_TOKEN, useValue: internalToken },
        InternalTokenGuard,
        ChangeRelay,
        DeliveryLines,
        DeliveryAttempts,
        DeliveryRetries,
        DeliveryMaintenance,
        SlaveDisabler,
        DeliveryScheduler,
        PropagationMetrics,
        DeliveryProcessor,
        OutboxRelay,
      ],
      exports: [DeliveryProcessor, DeliveryScheduler, OutboxRelay, ChangeRelay, DeliveryLines, DeliveryAttempts, DeliveryRetries, DeliveryMaintenance],
    };
  }
}

export { WorkerCheck };

import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { consumerConnectionOptions } from '@switchboard/redis';
import { DeliveryProcessor } from './delivery.processor';
import { DELIVERY_JOB_OPTIONS, DELIVERY_QUEUE } from './queue';

/** The propagator's worker side. */
@Global()
@Module({})
export class PropagationWorkerModule {
  static forRoot(options: { redisUrl: string }): DynamicModule {
    const url = new URL(options.redisUrl);
    return {
      module: PropagationWorkerModule,
      imports: [
        BullModule.forRoot({
          connection: {
            ...consumerConnectionOptions(),
            host: url.hostname,
            port: Number(url.port || 6379),
            username: url.username ? decodeURIComponent(url.username) : undefined,
            password: url.password ? decodeURIComponent(url.password) : undefined,
            db: Number(url.pathname.replace('/', '') || 0),
            tls: url.protocol === 'rediss:' ? {} : undefined,
          },
          defaultJobOptions: DELIVERY_JOB_OPTIONS,
        }),
        BullModule.registerQueue({ name: DELIVERY_QUEUE }),
      ],
      providers: [DeliveryProcessor],
      exports: [DeliveryProcessor],
    };
  }
}

import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import type IORedis from 'ioredis';
import { createRedis } from './connections';

/** The service's fail-fast Redis client (producer settings). */
export const REDIS = Symbol('SWITCHBOARD_REDIS');
export const REDIS_URL = Symbol('SWITCHBOARD_REDIS_URL');

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: IORedis) {}
  async onApplicationShutdown() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({})
export class RedisModule {
  static forRoot(url: string, connectionName: string): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        { provide: REDIS_URL, useValue: url },
        { provide: REDIS, useFactory: () => createRedis(url, 'producer', connectionName) },
        RedisCloser,
      ],
      exports: [REDIS, REDIS_URL],
    };
  }
}

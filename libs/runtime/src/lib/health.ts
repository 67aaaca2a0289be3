import { Controller, DynamicModule, Get, Inject, Injectable, Module, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorResult, HealthIndicatorService, TerminusModule, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type IORedis from 'ioredis';
import { REDIS } from '@switchboard/redis';
import { withTimeout } from './timeout';

/** A readiness check: `/health/ready` answers 503 when any check is down. */
export interface ReadinessCheck {
  check(): Promise<HealthIndicatorResult>;
}

@Injectable()
export class DatabaseCheck implements ReadinessCheck {
  constructor(private readonly db: TypeOrmHealthIndicator) {}
  check() {
    return this.db.pingCheck('database', { timeout: 2000 });
  }
}

@Injectable()
export class RedisCheck implements ReadinessCheck {
  constructor(
    @Inject(REDIS) private readonly redis: IORedis,
    private readonly health: HealthIndicatorService,
  ) {}

  async check() {
    const indicator = this.health.check('redis');
    try {
      const pong = await withTimeout(this.redis.ping(), 2000, 'no answer within 2000 ms');
      return pong === 'PONG' ? indicator.up() : indicator.down({ message: `unexpected answer ${pong}` });
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    }
  }
}

const CHECKS = Symbol('READINESS_CHECKS');

@ApiTags('health')
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly moduleRef: ModuleRef,
    @Inject(CHECKS) private readonly checks: Type<ReadinessCheck>[],
  ) {}

  /** The process is up and its event loop answers. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** The process can serve: its stores answer (and, for the propagator, its worker runs). */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(
      this.checks.map((type) => () => this.moduleRef.get(type).check()),
    );
  }
}

@Module({})
export class HealthModule {
  /**
   * `checks` are instantiated here (they may inject terminus indicators and any global provider).
   * Use `DatabaseCheck` and `RedisCheck` for the service's stores, plus service-specific checks.
   */
  static forRoot(checks: Type<ReadinessCheck>[]): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false, gracefulShutdownTimeoutMs: 0 })],
      controllers: [HealthController],
      providers: [{ provide: CHECKS, useValue: checks }, ...new Set(checks)],
    };
  }
}

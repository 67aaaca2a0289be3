import { Controller, DynamicModule, Get, Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown, Type } from '@nestjs/common';
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
const WATCH = Symbol('OUTAGE_WATCH_OPTIONS');

/** How each dependency is named in the outage lines (the check's key otherwise), and its down state. */
const DEPENDENCIES: Record<string, { name: string; down: string }> = {
  database: { name: 'PostgreSQL', down: 'unreachable' },
  redis: { name: 'Redis', down: 'unreachable' },
  auth: { name: 'the auth service', down: 'unreachable or not ready' },
  worker: { name: 'the propagation worker', down: 'not running' },
};
/** The first check runs this long after boot (the propagator's worker starts meanwhile). */
const FIRST_CHECK_MS = 1000;

export interface OutageWatchOptions {
  /** Checks watched (and logged) without being part of readiness, e.g. the auth service for admin. */
  also: Type<ReadinessCheck>[];
  /** How often every dependency is checked; 5 s by default. */
  intervalMs: number;
}

/** The state of one dependency as a check reports it: up, or down with the reason. */
async function probe(check: ReadinessCheck): Promise<{ key: string; up: boolean; reason: string }[]> {
  let result: HealthIndicatorResult;
  try {
    result = await check.check();
  } catch (err) {
    // Older indicators throw a HealthCheckError carrying the result as `causes`.
    const causes = (err as { causes?: HealthIndicatorResult }).causes;
    if (!causes) return [{ key: check.constructor.name, up: false, reason: (err as Error).message }];
    result = causes;
  }
  return Object.entries(result).map(([key, value]) => ({
    key,
    up: value.status === 'up',
    reason: String((value as { message?: unknown }).message ?? 'down'),
  }));
}

/**
 * Logs each outage of a dependency (PostgreSQL, Redis, the auth service, the propagator's worker)
 * once when it starts and once when it ends, with its duration, whatever the traffic: it checks
 * every dependency every few seconds from boot (so a store unreachable at startup is said at once,
 * not after a first request). Lines: `{"outage":"start","dependency":"redis","reason":…}` (warn)
 * and `{"outage":"end","dependency":"redis","downtimeMs":…}` (info). docs/operations.md#log-fields.
 */
@Injectable()
export class OutageWatch implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('OutageWatch');
  private readonly down = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(CHECKS) private readonly checks: Type<ReadinessCheck>[],
    @Inject(WATCH) private readonly options: OutageWatchOptions,
  ) {}

  onApplicationBootstrap() {
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      void this.tick();
      this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
      this.timer.unref();
    }, Math.min(FIRST_CHECK_MS, this.options.intervalMs));
    this.timer.unref();
  }

  onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.timer);
  }

  /** Checks every dependency once and logs what changed; returns the keys now down. */
  async tick(): Promise<string[]> {
    if (this.running || this.stopped) return [...this.down.keys()];
    this.running = true;
    try {
      const types = [...new Set([...this.checks, ...this.options.also])];
      const states = (await Promise.all(types.map((type) => probe(this.moduleRef.get(type, { strict: false }))))).flat();
      if (this.stopped) return [...this.down.keys()];
      for (const { key, up, reason } of states) this.record(key, up, reason);
      return [...this.down.keys()];
    } finally {
      this.running = false;
    }
  }

  private record(key: string, up: boolean, reason: string) {
    const { name, down } = DEPENDENCIES[key] ?? { name: key, down: 'down' };
    const since = this.down.get(key);
    if (!up && since === undefined) {
      this.down.set(key, Date.now());
      this.logger.warn({
        msg: `${name} is ${down} (${reason}); retrying, checked again every ${Math.round(this.options.intervalMs / 1000)} s (/health/ready answers 503 meanwhile)`,
        outage: 'start',
        dependency: key,
        reason,
      });
    } else if (up && since !== undefined) {
      this.down.delete(key);
      const downtimeMs = Date.now() - since;
      this.logger.log({ msg: `${name} is reachable again after ${(downtimeMs / 1000).toFixed(1)} s`, outage: 'end', dependency: key, downtimeMs });
    }
  }
}

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
   * Every check, and those of `watch.also`, is also run every `watch.intervalMs` by OutageWatch,
   * which logs when each dependency goes down and comes back.
   */
  static forRoot(checks: Type<ReadinessCheck>[], watch: Partial<OutageWatchOptions> = {}): DynamicModule {
    const options: OutageWatchOptions = { also: watch.also ?? [], intervalMs: watch.intervalMs ?? 5000 };
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false, gracefulShutdownTimeoutMs: 0 })],
      controllers: [HealthController],
      providers: [{ provide: CHECKS, useValue: checks }, { provide: WATCH, useValue: options }, ...new Set([...checks, ...options.also]), OutageWatch],
      exports: [OutageWatch],
    };
  }
}

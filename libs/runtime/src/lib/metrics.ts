import { Controller, DynamicModule, Get, Header, Headers, Inject, Module, Res, UnauthorizedException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { bearerMatches } from './bearer';
import { ApiExcludeController } from '@nestjs/swagger';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRICS = Symbol('SWITCHBOARD_METRICS');
const METRICS_ACCESS = Symbol('SWITCHBOARD_METRICS_ACCESS');

/**
 * Who may scrape `/metrics`. Absent `bearerTokens`: anyone who reaches the port (auth and
 * propagator, whose ports are internal). With it (gateway and admin, whose ports are public): only
 * `Authorization: Bearer <one of them>`; an empty list refuses every scrape.
 */
export interface MetricsAccess {
  bearerTokens?: readonly string[];
}
export const InjectMetrics = () => Inject(METRICS);

/** One Prometheus registry per service instance (several can run in one test process). */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration, by method and route',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
  }
}

@ApiExcludeController()
@Controller('metrics')
class MetricsController {
  constructor(
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
    @Inject(METRICS_ACCESS) private readonly access: MetricsAccess,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const tokens = this.access.bearerTokens;
    if (tokens && !bearerMatches(authorization, tokens)) {
      reply.header('www-authenticate', 'Bearer realm="switchboard-metrics"');
      throw new UnauthorizedException('a valid bearer token is required');
    }
    return this.metrics.registry.metrics();
  }
}

@Module({})
export class MetricsModule {
  static forRoot(service: string, access: MetricsAccess = {}): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [
        { provide: METRICS, useValue: new ServiceMetrics(service) },
        { provide: METRICS_ACCESS, useValue: access },
      ],
      exports: [METRICS],
    };
  }
}

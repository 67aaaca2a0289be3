import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule, Global, LoggerService, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { type DestinationStream, type Level, type Logger as PinoLogger, type LoggerOptions } from 'pino';
import { REDACTED, isSecretName, redactDeep, redactString, redactUrl } from './redact';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface LoggingOptions {
  service: string;
  level: Level | 'silent';
  /** Where log lines go; stdout when absent. Tests pass a stream to read what was logged. */
  stream?: DestinationStream;
  /**
   * false: no per-request logging context (a service serving only /health and /metrics). That
   * context lives in an AsyncLocalStorage, and on Node 20 the first request that enters one turns
   * on promise hooks for the rest of the process: every promise after it pays for them.
   */
  httpRequests?: boolean | 'hook';
}

/** Accepts a sane incoming `x-request-id` (set by a proxy or a calling service), else makes one. */
export function requestId(req: IncomingMessage): string {
  const existing = (req as IncomingMessage & { id?: unknown }).id;
  if (typeof existing === 'string' && existing) return existing;
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** An Error keeps being an Error (pino takes `msg` from it) but with its text redacted. */
function redactError(err: Error): Error {
  const copy = new Error(redactString(err.message));
  copy.name = err.name;
  copy.stack = err.stack ? redactString(err.stack) : undefined;
  return copy;
}

/** Every argument of a log call, interpolation arguments (`%o`, `%j`, `%s`) included. */
function redactArg(arg: unknown): unknown {
  if (typeof arg === 'string') return redactString(arg);
  if (arg instanceof Error) return redactError(arg);
  if (arg && typeof arg === 'object') {
    if (Array.isArray(arg)) return redactDeep(arg);
    const proto = Object.getPrototypeOf(arg);
    if (proto !== Object.prototype && proto !== null) return arg; // requests etc.: their serializers
    // Keep Errors as Errors (pino serializes `err` and takes `msg` from it), scrub everything else.
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(arg)) out[k] = v instanceof Error ? redactError(v) : isSecretName(k) ? REDACTED : redactDeep(v, 1);
    return out;
  }
  return arg;
}

/** pino options shared by request logs and application logs: JSON, redacted, with the service name. */
/**
 * Set on the raw request by createServiceApp's first hook: the client address Fastify computed
 * (`request.ip`, X-Forwarded-For believed only from TRUST_PROXY), for pino-http's request lines.
 */
export const CLIENT_ADDRESS = Symbol.for('switchboard.clientAddress');

export function pinoOptions(options: LoggingOptions): LoggerOptions {
  return {
    level: options.level,
    base: { service: options.service },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => redactDeep(obj) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map(redactArg) as Parameters<typeof method>);
      },
    },
    serializers: {
      // pino-http hands these the std-serialized objects; `raw` is the original.
      req: (req: { id?: string; method?: string; url?: string; remoteAddress?: string; headers?: Record<string, unknown>; raw?: { [CLIENT_ADDRESS]?: string } }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url ?? ''),
        // The client as Fastify sees it (request.ip, TRUST_PROXY applied), set by createServiceApp.
        remoteAddress: req.raw?.[CLIENT_ADDRESS] ?? req.remoteAddress,
        userAgent: req.headers?.['user-agent'],
      }),
      res: (res: { statusCode?: number | null; raw?: ServerResponse }) => ({ statusCode: res.raw?.statusCode ?? res.statusCode }),
      err: (err: Error) => redactDeep(err),
    },
  };
}

/** A Nest logger writing the same redacted JSON, for the boot phase before the app's own exists. */
export class BootLogger implements LoggerService {
  private readonly logger: PinoLogger;
  constructor(options: LoggingOptions) {
    this.logger = pino(pinoOptions(options), options.stream ?? process.stdout);
  }
  private write(level: 'info' | 'warn' | 'error' | 'debug' | 'trace' | 'fatal', message: unknown, rest: unknown[]) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    if (message instanceof Error) this.logger[level]({ err: message, context }, message.message);
    else if (typeof message === 'object') this.logger[level]({ ...(message as object), context });
    else this.logger[level]({ context }, String(message));
  }
  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.write('fatal', message, rest);
  }
}

let stdoutDestination: DestinationStream | undefined;

/**
 * pino's own asynchronous destination on stdout (sonic-boom, `sync: false`): a log line costs a
 * buffer append, never a blocking write, and lines written at the same time leave in one write. One
 * per process; flushed synchronously on exit so that the last lines (a fatal error) are not lost.
 */
export function asyncStdout(): DestinationStream {
  if (!stdoutDestination) {
    const dest = pino.destination({ dest: 1, sync: false });
    process.once('exit', () => {
      try {
        dest.flushSync();
      } catch {
        // stdout already closed: nothing more can be written
      }
    });
    stdoutDestination = dest;
  }
  return stdoutDestination;
}

/** The access logger of a service logging requests from a Fastify hook (`httpRequests: 'hook'`). */
export const ACCESS_LOG = Symbol('ACCESS_LOG');

@Global()
@Module({})
class AccessLogModule {}

/**
 * - `httpRequests` true (default): nestjs-pino's request context (pino-http): every log line of a
 *   request carries its id, at the price of an AsyncLocalStorage per request (on Node 20 that turns
 *   promise hooks on for the whole process) and a child logger per request;
 * - `'hook'` (the gateway, whose slave and API routes are the hot path): one access line per request
 *   from a Fastify `onResponse` hook (createServiceApp), the same fields and redaction, no
 *   per-request context; at a level that drops the line it costs a level check;
 * - false: no request lines (the propagator: only /health and /metrics).
 */
export function loggingModule(options: LoggingOptions): DynamicModule {
  const base = loggingModuleWithContext(options);
  if (options.httpRequests !== 'hook') return base;
  const access = pino(pinoOptions(options), options.stream ?? asyncStdout());
  return { module: AccessLogModule, global: true, imports: [base], providers: [{ provide: ACCESS_LOG, useValue: access }], exports: [ACCESS_LOG] };
}

function loggingModuleWithContext(options: LoggingOptions): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: [
      {
        ...pinoOptions(options),
        genReqId: requestId,
        customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
        // Under Fastify's middie `url` is relative to the mount point; `originalUrl` is the full path.
        autoLogging: {
          ignore: (req) => /^\/(health|metrics)(\/|$|\?)/.test((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? ''),
        },
      },
      options.stream ?? asyncStdout(),
    ],
    ...(options.httpRequests === false || options.httpRequests === 'hook' ? { forRoutes: [] } : {}),
  });
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream, Level, LoggerOptions } from 'pino';
import { redactDeep, redactString } from './redact';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface LoggingOptions {
  service: string;
  level: Level | 'silent';
  /** Where log lines go; stdout when absent. Tests pass a stream to read what was logged. */
  stream?: DestinationStream;
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

function redactArg(arg: unknown): unknown {
  if (typeof arg === 'string') return redactString(arg);
  if (arg instanceof Error) return redactError(arg);
  if (arg && typeof arg === 'object' && !Array.isArray(arg)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(arg)) out[k] = v instanceof Error ? redactError(v) : v;
    return out;
  }
  return arg;
}

/** pino options shared by request logs and application logs: JSON, redacted, with the service name. */
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
      req: (req: { id?: string; method?: string; url?: string; remoteAddress?: string; headers?: Record<string, unknown> }) => ({
        id: req.id,
        method: req.method,
        url: redactString(req.url ?? ''),
        remoteAddress: req.remoteAddress,
        userAgent: req.headers?.['user-agent'],
      }),
      res: (res: { statusCode?: number | null; raw?: ServerResponse }) => ({ statusCode: res.raw?.statusCode ?? res.statusCode }),
      err: (err: Error) => redactDeep(err),
    },
  };
}

export function loggingModule(options: LoggingOptions): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: [
      {
        ...pinoOptions(options),
        genReqId: requestId,
        customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
        autoLogging: { ignore: (req) => /^\/(health|metrics)(\/|$|\?)/.test(req.url ?? '') },
      },
      options.stream ?? process.stdout,
    ],
  });
}

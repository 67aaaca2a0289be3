import { STATUS_CODES } from 'node:http';
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/**
 * A service may answer errors in its own format (the admin API: RFC 9457 problem details) by
 * providing ERROR_FORMAT: it receives what classifyError mapped (status, words, headers) and the
 * exception, and returns the body and its content type. Without it: `{statusCode, error, message}`.
 */
export const ERROR_FORMAT = 'SWITCHBOARD_ERROR_FORMAT';
export interface ErrorFormatContext {
  /** The request id (x-request-id), never the URL. */
  requestId: string;
}
export type ErrorFormatter = (mapped: ErrorAnswer, exception: unknown, context: ErrorFormatContext) => { body: object; contentType: string };

/** What a service answers for an error: the status, the JSON body and extra headers. */
export interface ErrorAnswer {
  status: number;
  body: { statusCode: number; error: string; message: string | string[] } | object;
  headers?: Record<string, string>;
  /** How to log it: unexpected errors with their stack, client errors and outages as one line. */
  log: 'error' | 'warn' | 'none';
}

/**
 * Fixed messages for the client-side errors Fastify (and our body parsers) raise. Never the error's
 * own text: some of Fastify's messages quote the request (`'/x?key=…' is not a valid url component`,
 * `Unsupported Media Type: <content-type>`).
 */
const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, message: 'Body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, message: 'Body cannot be empty when content-type is application/json' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, message: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, message: 'Content-Length does not match the body' },
  FST_ERR_CTP_INVALID_TYPE: { status: 400, message: 'Invalid content type' },
  FST_ERR_CTP_INVALID_PARSE_TYPE: { status: 400, message: 'Invalid content type' },
  FST_ERR_BAD_URL: { status: 400, message: 'The request URL is not valid' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 404, message: 'No such resource' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, message: 'Bad request' },
  SB_JSON_TOO_DEEP: { status: 400, message: 'JSON body is nested too deeply' },
  SB_JSON_NOT_UNICODE: { status: 400, message: 'JSON body holds text that is not well-formed Unicode' },
};

// PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const PG_CONNECTION = /^(08|57P0[1-3]|53300)/; // connection exception, admin/crash shutdown, cannot connect now, too many connections
const PG_DATA = /^22/; // data exception: NUL or invalid byte sequence, value too long, bad number/date text...
const PG_INTEGRITY = /^23/; // integrity constraint violation (a duplicate that a race let through)
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
// ioredis and pg-pool failures while the store is away (messages are the libraries' own).
const STORE_DOWN_MESSAGES = [
  /Stream isn't writeable and enableOfflineQueue options is false/,
  /^Connection is closed\.?$/,
  /^Command timed out$/,
  /Reached the max retries per request limit/,
  /^(OOM|LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/,
  /Connection terminated( unexpectedly)?/,
  /timeout exceeded when trying to connect/,
  /Connection terminated due to connection timeout/,
  /the database system is (starting up|shutting down|in recovery mode)/,
];

const reason = (status: number) => STATUS_CODES[status] ?? 'Error';
const answer = (status: number, message: string | string[], log: ErrorAnswer['log'], headers?: Record<string, string>): ErrorAnswer => ({
  status,
  body: { statusCode: status, error: reason(status), message },
  log,
  ...(headers ? { headers } : {}),
});

/** A dependency (Redis, PostgreSQL, the auth service) did not answer: 503, the client may retry. */
export function isDependencyDown(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; message?: unknown; code?: unknown };
  if (e.name === 'AuthUnavailableError' || e.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.code === 'string' && (NET_CODES.has(e.code) || PG_CONNECTION.test(e.code))) return true;
  return typeof e.message === 'string' && STORE_DOWN_MESSAGES.some((re) => re.test(e.message as string));
}

/**
 * Maps any error a route let escape to what the client sees. Known client errors keep their 4xx,
 * an unavailable dependency answers 503 (with Retry-After), and everything else a 500 without
 * details. No answer ever quotes the request (its URL can carry a master key).
 */
export function classifyError(exception: unknown): ErrorAnswer {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    // Nest's "no route" answer quotes the method and the URL, query string included.
    if (status === 404 && /^Cannot [A-Z]+ /.test(exception.message)) return answer(404, 'No such route', 'none');
    if (status >= 500 && status !== 503) return answer(status, 'Internal server error', 'error');
    // Our own answers (validation messages, conflict codes, readiness details) go out as thrown.
    const response = exception.getResponse();
    return { status, body: typeof response === 'string' ? { statusCode: status, error: reason(status), message: response } : response, log: 'none' };
  }
  const e = (exception ?? {}) as Error & { code?: unknown; statusCode?: unknown };
  const known = typeof e.code === 'string' ? CLIENT_ERRORS[e.code] : undefined;
  if (known) return answer(known.status, known.message, 'warn');
  // The auth service refused what a gateway or admin route passed on (a bad argument reached it).
  if (e.name === 'AuthRejectedError' && [400, 404, 413].includes((e as { status?: unknown }).status as number)) {
    const status = (e as unknown as { status: number }).status;
    return answer(status, reason(status), 'warn');
  }
  if (isDependencyDown(exception)) return answer(503, 'Service unavailable: a store or service it needs is down; try again later', 'warn', { 'retry-after': '5' });
  if (e.name === 'QueryFailedError' && typeof e.code === 'string') {
    if (PG_DATA.test(e.code)) return answer(400, 'A value in the request cannot be stored (invalid characters, or out of range)', 'warn');
    if (PG_INTEGRITY.test(e.code)) return answer(409, 'The request conflicts with the current state; retry', 'warn');
  }
  // Other errors carrying a client status (body parsers, multipart): that status, a fixed message.
  const status = typeof e.statusCode === 'number' ? e.statusCode : NaN;
  if (status >= 400 && status < 500) return answer(status, reason(status), 'warn');
  return answer(500, 'Internal server error', 'error');
}

/**
 * The last line of defence of every service (registered by createServiceApp): whatever a route,
 * a guard, a body parser or the router throws becomes a documented status with a plain JSON body.
 * The causes are still fixed where they are; this only guarantees no 500 for a client error, no
 * 500 for an outage, and no detail or echo of the request in any error answer.
 */
@Catch()
export class SafetyNetFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionsHandler');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly format?: ErrorFormatter,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const mapped = classifyError(exception);
    if (mapped.log === 'error') this.logger.error(exception instanceof Error ? exception : new Error(String(exception)));
    else if (mapped.log === 'warn') this.logger.warn(`answered ${mapped.status}: ${exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception)}`);
    if (host.getType() !== 'http') return;
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse();
    if (adapter.isHeadersSent(response)) return;
    for (const [name, value] of Object.entries(mapped.headers ?? {})) adapter.setHeader(response, name, value);
    adapter.setHeader(response, 'x-content-type-options', 'nosniff');
    adapter.setHeader(response, 'cache-control', 'no-store');
    if (this.format) {
      const request = host.switchToHttp().getRequest<{ id?: unknown }>();
      const { body, contentType } = this.format(mapped, exception, { requestId: String(request?.id ?? '') });
      adapter.setHeader(response, 'content-type', contentType);
      adapter.reply(response, body, mapped.status);
      return;
    }
    adapter.reply(response, mapped.body, mapped.status);
  }
}

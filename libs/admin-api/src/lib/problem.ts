import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import type { z } from 'zod';
import type { ProblemDetails } from '@switchboard/contracts';
import type { ErrorAnswer, ErrorFormatContext, ErrorFormatter } from '@switchboard/runtime';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_PREFIX = 'urn:switchboard:problem:';

/** The problem types of the admin API, by status (`validation` for a 400 naming fields). Listed in docs/admin-api.md. */
export const PROBLEM_SLUGS: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  414: 'uri-too-long',
  415: 'unsupported-media-type',
  429: 'rate-limited',
  431: 'headers-too-large',
  500: 'internal',
  503: 'unavailable',
};

export interface FieldError {
  field: string | null;
  message: string;
}

/**
 * A request that failed validation: 400 with one entry per problem, each naming its field. Messages
 * come from the schema (zod's own words or ours), never from the request: an unknown field is not
 * named (its name is the caller's text, which may be a secret pasted in the wrong place).
 */
export class ValidationProblem extends HttpException {
  constructor(readonly errors: FieldError[]) {
    super({ statusCode: 400, error: 'Bad Request', message: errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)) }, 400);
    this.name = 'ValidationProblem';
  }
}

/** The zod issues of a failed check as field errors; `allowed` names the fields an unknown one could have been. */
export function fieldErrors(error: z.ZodError, allowed?: readonly string[]): FieldError[] {
  return error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.map(String).join('.') : null;
    if (issue.code === 'unrecognized_keys') {
      return { field, message: allowed ? `unknown parameter (accepted: ${allowed.length ? allowed.join(', ') : 'none'})` : 'unknown parameter' };
    }
    return { field, message: issue.message };
  });
}

/** `value` parsed by `schema`, or a ValidationProblem naming every field at fault. */
export function check<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  throw new ValidationProblem(fieldErrors(r.error, shape ? Object.keys(shape) : undefined));
}

const LINE = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*): (.+)$/s;

/** Lines of an error message (ours, or relayed from auth: `field: message`) as field errors. */
function linesToErrors(lines: string[]): FieldError[] {
  return lines.map((line) => {
    const m = LINE.exec(line);
    return m ? { field: m[1], message: m[2] } : { field: null, message: line };
  });
}

/**
 * Every admin error as RFC 9457 problem details (the admin service's ERROR_FORMAT). Built from what
 * the runtime's safety net mapped (status, fixed words for framework errors, our own messages), so
 * it says no more than the JSON answers did: never the URL, never a value of the request.
 */
export const problemFormat: ErrorFormatter = (mapped: ErrorAnswer, exception: unknown, context: ErrorFormatContext) => ({
  body: toProblem(mapped, exception, context),
  contentType: `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
});

export function toProblem(mapped: ErrorAnswer, exception: unknown, context: ErrorFormatContext): ProblemDetails {
  const status = mapped.status;
  const title = STATUS_CODES[status] ?? 'Error';
  const body = (typeof mapped.body === 'object' && mapped.body !== null ? mapped.body : {}) as Record<string, unknown>;
  const message = body['message'];
  let errors: FieldError[] | undefined;
  let detail: string;
  if (exception instanceof ValidationProblem) {
    errors = exception.errors;
    detail = errors.length === 1 ? (errors[0].field ? `${errors[0].field}: ${errors[0].message}` : errors[0].message) : `${errors.length} fields are invalid`;
  } else if (Array.isArray(message)) {
    const lines = message.filter((l): l is string => typeof l === 'string');
    errors = status === 400 || lines.some((l) => LINE.test(l)) ? linesToErrors(lines) : undefined;
    detail = lines.length === 1 ? lines[0] : lines.length ? `${lines.length} problems: ${lines.join('; ')}` : title;
  } else {
    detail = typeof message === 'string' && message ? message : title;
  }
  // A machine-readable reason some answers carry (`email_in_use`, `slave_url_refused`), not the reason phrase.
  const code = typeof body['error'] === 'string' && body['error'] !== title && /^[a-z][a-z0-9_]{0,63}$/.test(body['error']) ? body['error'] : undefined;
  const rule = typeof body['rule'] === 'string' && /^[a-z_]{1,32}$/.test(body['rule']) ? body['rule'] : undefined;
  const retryAfter = Number(mapped.headers?.['retry-after'] ?? (exception as { retryAfter?: unknown } | null)?.retryAfter);
  const slug = errors && status === 400 ? 'validation' : (PROBLEM_SLUGS[status] ?? `http-${status}`);
  return {
    type: PROBLEM_TYPE_PREFIX + slug,
    title,
    status,
    detail,
    instance: `urn:switchboard:request:${context.requestId || 'unknown'}`,
    ...(errors ? { errors } : {}),
    ...(code ? { code } : {}),
    ...(rule ? { rule } : {}),
    ...(Number.isInteger(retryAfter) && retryAfter >= 0 ? { retry_after: retryAfter } : {}),
  };
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { BadRequestException, CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { Contract, ContractViolation, RequestOf, ResponseOf, checkMessage, pathOf } from '@switchboard/contracts';
import { INTERNAL_TOKEN_HEADER } from './internal-token.guard';

const logger = new Logger('Contracts');

/**
 * The request being served, for the internal calls it makes (their `x-request-id`). Set by
 * RequestContextInterceptor in services whose routes call other services (admin); the gateway passes
 * the id explicitly instead, to keep AsyncLocalStorage off its hot path.
 */
export const REQUEST_CONTEXT = new AsyncLocalStorage<{ requestId: string }>();

/** Runs each controller handler inside REQUEST_CONTEXT with its request's id. */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const id = context.switchToHttp().getRequest<{ id?: unknown }>()?.id;
    if (id === undefined || id === null) return next.handle();
    return new Observable((subscriber) => REQUEST_CONTEXT.run({ requestId: String(id) }, () => next.handle().subscribe(subscriber)));
  }
}

/**
 * The answering side of an internal route: the body it received, checked against its contract
 * (libs/contracts). A message that breaks it is answered 400 with one line per problem (fields
 * named, values never echoed).
 */
export function receive<C extends Contract>(c: C, body: unknown): RequestOf<C> {
  try {
    return checkMessage(c, 'request', body);
  } catch (err) {
    if (err instanceof ContractViolation) throw new BadRequestException(err.issues);
    throw err;
  }
}

/**
 * The answering side's answer, checked against its contract before it leaves: an answer that
 * breaks it is a bug here, logged and answered 500 (the caller treats it as the service failing).
 */
export function answer<C extends Contract>(c: C, value: ResponseOf<C>): ResponseOf<C> {
  try {
    return checkMessage(c, 'response', value);
  } catch (err) {
    if (err instanceof ContractViolation) logger.error(err.message);
    throw err;
  }
}

export interface InternalClientOptions {
  baseUrl: string;
  internalToken: string;
  timeoutMs?: number;
  /** The error for "could not reach it, it failed (5xx), or its answer broke the contract". */
  unavailable: (message: string) => Error;
}

export interface InternalCall {
  /** Values of the contract path's `:name` segments. */
  params?: Record<string, string | number>;
  body?: unknown;
  requestId?: string | null;
  /** Appended to the path as it is (already encoded), e.g. `?days=7`. */
  query?: string;
}

/**
 * The calling side of internal routes (keep-alive `fetch`, INTERNAL_TOKEN, the request id
 * forwarded, a timeout). What it sends is checked against the contract first (a ContractViolation
 * is a bug of the caller, never sent); a 2xx answer is checked against it on arrival (one that
 * breaks it counts as the service failing: `unavailable`). 4xx answers are returned as they are.
 */
export class InternalClient {
  constructor(private readonly options: InternalClientOptions) {}

  /** The answer: `body` checked for 2xx, as received otherwise. */
  async call<C extends Contract>(c: C, call: InternalCall = {}): Promise<{ status: number; body: unknown }> {
    const sent = checkMessage(c, 'request', call.body);
    const requestId = call.requestId ?? REQUEST_CONTEXT.getStore()?.requestId ?? null;
    let response: Response;
    try {
      response = await fetch(this.options.baseUrl + pathOf(c, call.params) + (call.query ?? ''), {
        method: c.method,
        headers: {
          ...(sent === undefined ? {} : { 'content-type': 'application/json' }),
          [INTERNAL_TOKEN_HEADER]: this.options.internalToken,
          ...(requestId ? { 'x-request-id': requestId } : {}),
        },
        body: sent === undefined ? undefined : JSON.stringify(sent),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw this.options.unavailable(`${c.service} service unreachable: ${(err as Error).message}`);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    if (response.status >= 500) throw this.options.unavailable(`${c.service} service answered HTTP ${response.status}`);
    if (response.status < 300) {
      try {
        body = checkMessage(c, 'response', body);
      } catch (err) {
        if (err instanceof ContractViolation) throw this.options.unavailable(err.message);
        throw err;
      }
    }
    return { status: response.status, body };
  }
}

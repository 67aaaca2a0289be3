import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { classifyError } from '@switchboard/runtime';
import { ValidationProblem } from '../problem';
import { CONSOLE_BASE, html, page } from './html';

/**
 * The console pages' Content-Security-Policy: everything from the admin origin only, no script at
 * all, styles only from the console's stylesheet (no inline style), forms only to the console
 * itself, never framed.
 */
export const CONSOLE_CSP = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Headers of every console page (errors included). */
export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

export function sendPage(reply: FastifyReply, status: number, body: string, headers: Record<string, string> = {}): void {
  void reply.code(status).headers({ ...PAGE_HEADERS, ...headers }).send(body);
}

/** A redirect after a form (POST → 303 → GET) or to the sign-in page. */
export function redirect(reply: FastifyReply, location: string, headers: Record<string, string> = {}): void {
  void reply.code(303).headers({ 'cache-control': 'no-store', location, ...headers }).send();
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Not signed in',
  403: 'Refused',
  404: 'Not found',
  409: 'Not possible now',
  413: 'Too large',
  415: 'Not a form',
  429: 'Too many attempts',
  503: 'Unavailable',
};

/** The lines an error page shows: the field errors of a bad request, our own messages, never the request's values. */
function linesOf(exception: unknown, mapped: ReturnType<typeof classifyError>): string[] {
  if (exception instanceof ValidationProblem) return exception.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
  const message = (mapped.body as { message?: unknown }).message;
  if (Array.isArray(message)) return message.filter((m): m is string => typeof m === 'string');
  return typeof message === 'string' && message ? [message] : [];
}

export function errorPage(status: number, lines: string[]): string {
  const title = TITLES[status] ?? (status >= 500 ? 'Something went wrong' : 'Error');
  return page({
    title,
    notice: { kind: 'error', text: lines.length ? lines.join(' · ') : title },
    body: html`<p>${status === 401 ? html`<a href="${CONSOLE_BASE}/sign-in">Sign in</a>` : html`<a href="${CONSOLE_BASE}">Back to the overview</a>`}</p>
<p class="muted">HTTP ${status}</p>`,
  });
}

/**
 * Every error of a console route as an HTML page (not the API's problem details): the status the
 * runtime's safety net would answer (classifyError: a store down is 503, bad input 4xx, a bug 500
 * with no detail), and its words.
 */
@Catch()
export class ConsoleErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Console');

  catch(exception: unknown, host: ArgumentsHost): void {
    const mapped = classifyError(exception);
    if (mapped.log === 'error') this.logger.error(exception instanceof Error ? exception : new Error(String(exception)));
    else if (mapped.log === 'warn') this.logger.warn(`answered ${mapped.status}: ${exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception)}`);
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent) return;
    const headers: Record<string, string> = { ...(mapped.headers ?? {}) };
    const retryAfter = (exception as { retryAfter?: unknown } | null)?.retryAfter;
    if (typeof retryAfter === 'number') headers['retry-after'] = String(retryAfter);
    const status = mapped.status;
    const lines = status >= 500 && status !== 503 ? [] : linesOf(exception, mapped);
    sendPage(reply, status, errorPage(status, lines), headers);
  }
}

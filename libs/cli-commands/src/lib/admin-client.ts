import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { problemDetails } from '@switchboard/contracts';
import type { CliSettings } from '@switchboard/config';
import { CliError, EXIT, usageError } from './cli-error';
import { shown } from './output';

const NO_TOKEN =
  'no admin token: set SWITCHBOARD_ADMIN_TOKEN or SWITCHBOARD_ADMIN_TOKEN_FILE (ADMIN_TOKEN and ADMIN_TOKEN_FILE are read too), or pass --token-file <path>';

/** A page of any admin list: `{items, next_cursor}`. */
type Page<T> = { items: T[]; next_cursor: string | null };
/** Every list gives at most this many items a page. */
const PAGE_LIMIT = 500;

/** The network error behind a failed fetch, in a few words. */
function reason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  if (code) return code;
  return e.cause?.message ?? e.message ?? String(err);
}

/**
 * The admin REST API as the CLI uses it: every request carries the admin token and a timeout
 * (AbortSignal.timeout), every body is checked by the caller against the API's own schema before it
 * is sent, and every answer against the schema of what the API promises. A problem+json answer
 * (RFC 9457) becomes a CliError with its title, detail, code and field errors.
 */
export class AdminClient {
  constructor(private readonly settings: CliSettings) {}

  /** The request; resolves to the checked answer (undefined for a 204). */
  async request<S extends z.ZodType>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, answer: S | null, body?: unknown): Promise<z.output<S>> {
    const { adminUrl, token, timeoutMs } = this.settings;
    if (token === undefined) throw usageError(NO_TOKEN);
    let res: Response;
    let text: string;
    try {
      res = await fetch(adminUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json, application/problem+json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new CliError(EXIT.UNREACHABLE, `no answer from the admin API at ${adminUrl} within ${timeoutMs} ms`);
      throw new CliError(EXIT.UNREACHABLE, `cannot reach the admin API at ${adminUrl}: ${reason(err)}`, ['is the admin service running? Set SWITCHBOARD_ADMIN_URL (or --url) to where it listens']);
    }
    if (res.status >= 400) throw this.refusal(res, text);
    if (res.status >= 300 || res.status < 200) throw this.unexpected(`HTTP ${res.status}`);
    if (answer === null) return undefined as z.output<S>;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.unexpected('an answer that is not JSON');
    }
    const checked = answer.safeParse(parsed);
    if (!checked.success) throw this.unexpected(`an answer of another shape (${checked.error.issues[0]?.path.join('.') || 'body'}: ${checked.error.issues[0]?.message})`);
    return checked.data;
  }

  /** Every item of a list, following `next_cursor` page after page. */
  async list<I>(path: string, page: z.ZodType<Page<I>>, query: Record<string, string | undefined> = {}): Promise<I[]> {
    const items: I[] = [];
    let cursor: string | null = null;
    do {
      const params = new URLSearchParams({ limit: String(PAGE_LIMIT) });
      for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
      if (cursor !== null) params.set('cursor', cursor);
      const answer: Page<I> = await this.request('GET', `${path}?${params}`, page);
      items.push(...answer.items);
      cursor = answer.next_cursor;
    } while (cursor !== null);
    return items;
  }

  private unexpected(what: string): CliError {
    return new CliError(EXIT.FAILED, `unexpected answer from ${this.settings.adminUrl}: ${what}`, ['is SWITCHBOARD_ADMIN_URL (or --url) the admin service?']);
  }

  /** An error answer in plain words: the problem's title, detail and code; 401/403 said as such. */
  private refusal(res: Response, text: string): CliError {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const problem = problemDetails.safeParse(body);
    const words = STATUS_CODES[res.status] ?? 'Error';
    if (!problem.success) return new CliError(EXIT.FAILED, `the admin API answered ${res.status} ${words}`, ['is SWITCHBOARD_ADMIN_URL (or --url) the admin service?'], res.status);
    const p = problem.data;
    const code = p.code ? ` (${shown(p.code)})` : '';
    const detail = shown(p.detail);
    if (res.status === 401 || res.status === 403) {
      return new CliError(
        EXIT.FAILED,
        `the admin token was refused (${res.status} ${shown(p.title)}: ${detail})`,
        [`the token came from ${this.settings.tokenSource}; a revoked or unknown token is refused (create one with an accepted token: switchboard admin-token create <name>)`],
        res.status,
      );
    }
    const details = (p.errors ?? []).map((e) => `${e.field === null ? 'request' : shown(e.field)}: ${shown(e.message)}`);
    if (p.rule) details.push(`rule: ${shown(p.rule)}`);
    if (p.retry_after !== undefined) details.push(`retry in ${p.retry_after} s`);
    return new CliError(EXIT.FAILED, `${shown(p.title)}: ${detail}${code}`, details, res.status);
  }
}

import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiResult } from './api-call';
import { ApiGatewayService } from './api-gateway.service';
import { renderError, renderJson, renderXml } from './envelope';

const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** A `+`, a `%` escape or a character outside ASCII: the text needs decoding. */
const ENCODED = /[%+\u0080-\uffff]/;

/** Decodes a form string; a repeated name keeps its last value (A1). Marks undecodable input. */
export function decodeForm(raw: string, into: Map<string, string>): boolean {
  let undecodable = false;
  for (const piece of raw.split('&')) {
    if (!piece) continue;
    const eq = piece.indexOf('=');
    const dec = (s: string) => {
      // Plain ASCII with nothing encoded (most names and values) decodes to itself.
      if (!ENCODED.test(s)) return s;
      const bytes = Buffer.from(s.replace(/\+/g, ' ').replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      try {
        return UTF8.decode(bytes);
      } catch {
        undecodable = true;
        return '\ufffd';
      }
    };
    const name = dec(eq === -1 ? piece : piece.slice(0, eq));
    into.set(name, dec(eq === -1 ? '' : piece.slice(eq + 1)));
  }
  return undecodable;
}

/** Parameters one application API call may carry. */
const MAX_API_PARAMS = 1000;

/**
 * `/api/<method>` and `/api/<method>/<format>` (A1): GET or POST (urlencoded); the answer in the
 * ipernity envelope with HTTP 200 for API errors (A7). The call is checked here (ApiGatewayService);
 * reads are answered here, changes executed by the auth service.
 */
/** The paths of the application API, registered straight on Fastify (like IPS Connect's). */
export const API_PATHS = ['/api/:method', '/api/:method/:format'];

@Injectable()
export class ApiGatewayController implements OnModuleInit {
  private readonly logger = new Logger('Api');

  constructor(
    private readonly calls: ApiGatewayService,
    private readonly adapter: HttpAdapterHost,
  ) {}

  /**
   * Registered straight on Fastify, not as a Nest controller: the signed reads are a hot path and pay
   * for no router, guard, interceptor or pipe layer they do not use (Fastify's hooks still run).
   */
  onModuleInit() {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    for (const path of API_PATHS) {
      fastify.all(path, async (req, reply) => {
        const params = req.params as { method: string; format?: string };
        try {
          await this.handle(params.method, params.format, req, reply);
        } catch (err) {
          this.logger.error(`api call failed: ${(err as Error).message}`);
          if (!reply.sent) this.send(reply.header('retry-after', '5'), 'json', renderError('json', 503, 'Service unavailable.'));
        }
        return reply;
      });
    }
  }

  async handle(method: string, format: string | undefined, req: FastifyRequest, reply: FastifyReply) {
    const fmt = format ?? 'json';
    if (fmt !== 'json' && fmt !== 'xml') {
      this.send(reply, 'json', renderError('json', 102, 'The requested format is invalid. Valid formats are : json, xml, php.'));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      reply.code(405).header('allow', 'GET, POST').send();
      return;
    }
    const params = new Map<string, string>();
    const raw = req.raw.url ?? '';
    const q = raw.indexOf('?');
    let undecodable = decodeForm(q === -1 ? '' : raw.slice(q + 1), params);
    const form = typeof req.body === 'string' && /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(req.headers['content-type'] ?? '');
    if (form) undecodable = decodeForm(req.body as string, params) || undecodable;
    let result: ApiResult;
    try {
      // More parameters than any method reads: malformed, like invalid UTF-8 (105).
      result =
        params.size > MAX_API_PARAMS
          ? { ok: false, code: 105, message: `The query is malformed (more than ${MAX_API_PARAMS} parameters).` }
          : await this.calls.call({ method, httpMethod: req.method, params: [...params], undecodable, remoteAddress: req.ip ?? null, requestId: String(req.id ?? '') || null });
    } catch (err) {
      this.logger.error(`api call ${method} failed: ${(err as Error).message}`);
      result = { ok: false, code: 503, message: 'Service unavailable.', retryAfter: 5 };
    }
    if (!result.ok && result.retryAfter) reply.header('retry-after', String(result.retryAfter));
    this.send(reply, fmt, result.ok ? (fmt === 'xml' ? renderXml(result.payload) : renderJson(result.payload)) : renderError(fmt, result.code, result.message));
  }

  private send(reply: FastifyReply, fmt: 'json' | 'xml', body: string) {
    reply
      .code(200)
      .header('content-type', fmt === 'xml' ? 'text/xml; charset=utf-8' : 'application/json; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(body);
  }
}

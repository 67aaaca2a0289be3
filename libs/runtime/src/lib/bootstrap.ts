import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { INestApplication, Type, DynamicModule } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { ACCESS_LOG, BootLogger, CLIENT_ADDRESS, LoggingOptions, requestId } from './logging';
import { readMultipartFields } from './multipart';
import { METRICS, ServiceMetrics } from './metrics';
import { JsonBodyError, jsonDepthExceeds, jsonIsWellFormed } from './json-body';
import { ERROR_FORMAT, ErrorAnswer, ErrorFormatter, SafetyNetFilter, classifyError } from './safety-net';
import { bearerMatches } from './bearer';

/** After SIGTERM/SIGINT a service that has not finished closing by then exits anyway. */
export const SHUTDOWN_LIMIT_MS = 7000;
let watchdogInstalled = false;

/**
 * Bounds graceful shutdown: Nest closes the app on the signal (enableShutdownHooks), but a close
 * can hang (a Redis client waiting to reconnect, a BullMQ worker waiting for a dead server). Past
 * SHUTDOWN_LIMIT_MS the process exits with status 1, before `npm start` (8 s) or Docker (10 s) kill it.
 */
function installShutdownWatchdog() {
  if (watchdogInstalled) return;
  watchdogInstalled = true;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        process.stderr.write(`shutdown did not finish within ${SHUTDOWN_LIMIT_MS} ms: exiting\n`);
        process.exit(1);
      }, SHUTDOWN_LIMIT_MS).unref();
    });
  }
}

/** Largest request body any service accepts; larger ones get HTTP 413 (spec D2). */
export const BODY_LIMIT = 64 * 1024;

export interface ServiceAppOptions {
  /** Log the boot phase as redacted JSON too (services); without it Nest buffers boot logs (tests). */
  bootLogging?: LoggingOptions;
  /**
   * Title for the OpenAPI document at /docs (and /docs-json); none when absent. With `bearerTokens`
   * the document and its UI answer only requests carrying `Authorization: Bearer <one of them>`.
   */
  /**
   * TRUST_PROXY: the proxies (addresses, CIDRs, `loopback`…) whose `X-Forwarded-For` is believed.
   * `request.ip` is then the right-most address of that header not among them, for every
   * per-address limit, network rule, log line and audit record. Empty or absent: the TCP peer.
   */
  trustProxy?: readonly string[];
  docs?: {
    title: string;
    description: string;
    bearerTokens?: readonly string[];
    /** Instead of `bearerTokens`: who may read the document, decided by the app (e.g. the admin's own authentication). */
    access?: (app: NestFastifyApplication) => (request: FastifyRequest) => Promise<boolean>;
    /** Builds the document from the app (instead of the default builder), e.g. with generated schemas. */
    document?: (app: NestFastifyApplication) => OpenAPIObject;
  };
  /**
   * Fastify routes outside Nest (a plugin such as Bull Board), registered before the app starts.
   * Nest's guards do not cover them: the function guards them itself.
   */
  mount?: (app: NestFastifyApplication) => Promise<void>;
}

/** Headers every answer of every service carries (error answers and 404s included). */
export const COMMON_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

/**
 * Builds a Switchboard service: Nest on Fastify, JSON logs, request metrics, graceful shutdown,
 * form bodies kept as raw strings (each protocol parses them itself, PHP-style), JSON bodies parsed.
 */
export async function createServiceApp(
  module: Type<unknown> | DynamicModule,
  options: ServiceAppOptions = {},
): Promise<NestFastifyApplication> {
  // The app's own error format (ERROR_FORMAT), known once the app is built; used for errors raised
  // outside Nest's filters too (unroutable URLs, the /docs check).
  let format: ErrorFormatter | undefined;
  const errorAnswer = (mapped: ErrorAnswer, err: unknown, request: FastifyRequest) =>
    format ? format(mapped, err, { requestId: String(request.id ?? '') }) : { body: mapped.body, contentType: 'application/json; charset=utf-8' };
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT,
    trustProxy: options.trustProxy?.length ? [...options.trustProxy] : false,
    // Requests Node's parser refuses before Fastify routes them (a malformed request line or header,
    // headers over the limit, a timeout): Fastify's own answer, or the app's error format.
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const words = STATUS_CODES[status] ?? 'Error';
      const message = status === 408 ? 'Client Timeout' : status === 431 ? 'Exceeded maximum allowed HTTP header size' : 'Client Error';
      const mapped: ErrorAnswer = { status, body: { error: words, message, statusCode: status }, log: 'none' };
      const answer = format ? format(mapped, err, { requestId: randomUUID() }) : { body: mapped.body, contentType: 'application/json' };
      const text = JSON.stringify(answer.body);
      if (socket.writable) {
        socket.write(`HTTP/1.1 ${status} ${words}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: ${answer.contentType}\r\nX-Content-Type-Options: nosniff\r\n\r\n${text}`);
      }
      socket.destroy(err);
    },
    genReqId: requestId,
    // A URL Fastify cannot route (bad percent-encoding, an over-long parameter): Fastify's own answer
    // quotes the URL, so answer through the same mapping as every other error.
    frameworkErrors: (err: Error, request: FastifyRequest, reply: FastifyReply) => {
      const mapped = classifyError(err);
      const { body, contentType } = errorAnswer(mapped, err, request);
      void reply.code(mapped.status).headers({ ...COMMON_HEADERS, 'cache-control': 'no-store', 'content-type': contentType }).send(body);
    },
  });
  // The adapter's own request hook runs before Nest's middleware (pino-http, whose request lines
  // then show the same client as request.ip, TRUST_PROXY applied).
  adapter.setOnRequestHook((request, _reply, done) => {
    (request.raw as { [CLIENT_ADDRESS]?: string })[CLIENT_ADDRESS] = request.ip;
    done();
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    ...(options.bootLogging ? { logger: new BootLogger(options.bootLogging) } : { bufferLogs: true }),
    bodyParser: false,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  format = optionalProvider<ErrorFormatter>(app, ERROR_FORMAT); // none: the default shape
  app.useGlobalFilters(new SafetyNetFilter(app.get(HttpAdapterHost), format));
  app.enableShutdownHooks();
  installShutdownWatchdog();

  const fastify = app.getHttpAdapter().getInstance();
  // JSON bodies: Fastify's parser (prototype poisoning refused), after a depth check, and only
  // well-formed Unicode text (see json-body.ts).
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (jsonDepthExceeds(text)) return done(new JsonBodyError('SB_JSON_TOO_DEEP', 'JSON body is nested too deeply'), undefined);
    parseJson(request, text, (err, value) => {
      if (err) return done(err, undefined);
      if (!jsonIsWellFormed(value)) return done(new JsonBodyError('SB_JSON_NOT_UNICODE', 'JSON body holds text that is not well-formed Unicode'), undefined);
      done(null, value);
    });
  });
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  );
  fastify.addContentTypeParser('multipart/form-data', (request, _payload, done) => {
    readMultipartFields(request.raw, BODY_LIMIT).then((form) => done(null, form), (err: Error) => done(err, undefined));
  });
  // Any other body (text, JSON-less, none declared) is read within the limit and ignored, rather
  // than refused with 415: protocols that take parameters also read the query string.
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));

  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // No answer is to be sniffed into another type (an error text read as HTML, say).
    reply.headers(COMMON_HEADERS);
    done();
  });

  // None: request lines come from nestjs-pino's middleware, or none (loggingModule).
  const access = optionalProvider<PinoLogger>(app, ACCESS_LOG);
  if (access) {
    const log = access;
    fastify.addHook('onResponse', (request, reply, done) => {
      const status = reply.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (log.isLevelEnabled(level) && !/^\/(health|metrics)(\/|$|\?)/.test(request.url)) {
        log[level]({ req: { id: request.id, method: request.method, url: request.url, remoteAddress: request.ip, headers: request.headers }, res: { statusCode: status }, responseTime: Math.round(reply.elapsedTime) }, 'request completed');
      }
      done();
    });
  }

  const metrics = app.get<ServiceMetrics>(METRICS);
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  if (options.docs) {
    const tokens = options.docs.bearerTokens;
    const access = options.docs.access?.(app) ?? (tokens ? async (request: FastifyRequest) => bearerMatches(request.headers.authorization, tokens) : undefined);
    if (access) {
      // Swagger's routes are Fastify routes, outside Nest's guards: checked in a hook.
      // The matched route decides (a percent-encoded spelling of the path reaches the same route).
      const isDocs = (path: string) => path === '/docs' || path.startsWith('/docs/') || path.startsWith('/docs-');
      fastify.addHook('onRequest', async (request, reply) => {
        if (!(isDocs(request.routeOptions.url ?? '') || isDocs(request.url.split('?')[0]))) return;
        let allowed = false;
        let failure: unknown;
        try {
          allowed = await access(request);
        } catch (err) {
          failure = err;
        }
        if (allowed) return;
        const mapped: ErrorAnswer = failure
          ? classifyError(failure)
          : { status: 401, body: { statusCode: 401, error: 'Unauthorized', message: 'a valid bearer token is required' }, log: 'none', headers: { 'www-authenticate': 'Bearer realm="switchboard"' } };
        const { body, contentType } = errorAnswer(mapped, failure ?? null, request);
        await reply.code(mapped.status).headers({ ...(mapped.headers ?? {}), 'cache-control': 'no-store', 'content-type': contentType }).send(body);
        return reply;
      });
    }
    const docs = options.docs;
    const build = docs.document
      ? () => docs.document!(app)
      : () => SwaggerModule.createDocument(app, new DocumentBuilder().setTitle(docs.title).setDescription(docs.description).addBearerAuth().build());
    SwaggerModule.setup('docs', app, build);
  }

  if (options.mount) await options.mount(app);

  await app.init();
  await fastify.ready();
  return app;
}

/** Listens and returns the base URL. `port` 0 picks a free port (tests). */
export async function listen(app: INestApplication, port: number, host: string): Promise<string> {
  await app.listen(port, host);
  const address = app.getHttpServer().address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${actual}`;
}

/**
 * A provider some services have and others not, or undefined. Looked up through the root ModuleRef:
 * `app.get` runs inside Nest's exceptions zone, which logs a missing provider as an error with its
 * stack before our catch sees it (six such lines on every `npm start`).
 */
function optionalProvider<T>(app: NestFastifyApplication, token: string | symbol): T | undefined {
  try {
    return app.get(ModuleRef).get<T>(token, { strict: false }) ?? undefined;
  } catch {
    return undefined;
  }
}

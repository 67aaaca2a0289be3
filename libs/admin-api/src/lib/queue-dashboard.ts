import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import IORedis from 'ioredis';
import { DELIVERY_QUEUE_NAME } from '@switchboard/contracts';
import { classifyError, type ErrorAnswer } from '@switchboard/runtime';
import { AdminAuthenticator, type AdminRequest, authFailureHeaders } from './admin-token.guard';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem';

/** Where the queue dashboard (Bull Board) answers on the admin port. */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/** The routes each app's dashboard mounted (method and URL pattern), for tests that visit every one. */
const mounted = new WeakMap<object, { method: string; url: string }[]>();
export function queueDashboardRoutes(app: NestFastifyApplication): { method: string; url: string }[] {
  return [...(mounted.get(app) ?? [])];
}

/**
 * The dashboard's pages load only from the admin's own origin (Bull Board's scripts, styles, images
 * and API calls are all under /admin/queues; its inline `<script type="application/json">` is data).
 */
const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
const EXTERNAL_STYLESHEETS = /<link\b[^>]*\bhref="https?:\/\/[^"]*"[^>]*rel="stylesheet"[^>]*>/g;

/** The only methods the dashboard answers: it is read-only (docs/admin-api.md, "Queue dashboard"). */
const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Bull Board over the propagator's delivery queue, at /admin/queues, read-only and behind the admin
 * authentication.
 *
 * - **Guarded in its own Fastify scope.** Bull Board mounts plain Fastify routes (its page, its API,
 *   its static files) that Nest's guards never see. They are registered inside a scope whose
 *   `onRequest` hook authenticates every request exactly as the admin API does (bootstrap or named
 *   token, the console's session, the per-address failure limit, the audit of failures). A hook of
 *   the scope runs for every route of the scope whatever spelling of the URL reached it
 *   (`/admin/%71ueues/api/queues` included), unlike a check of the URL in a root hook.
 * - **Read-only.** The BullMQ keys are the propagator's (docs/architecture.md): the dashboard's
 *   queue is read-only in Bull Board (its actions answer 405) and, before Bull Board sees them,
 *   every method other than GET and HEAD is refused (405), so no request through the dashboard
 *   writes to Redis and none can be forged from another site. Retries and discards go through the
 *   admin API (`POST /admin/deliveries/:id/retry`, …), which asks the propagator and is audited.
 * - **Fails closed.** Redis or PostgreSQL away: 503 problem details, never Bull Board's 500.
 */
export async function mountQueueDashboard(app: NestFastifyApplication, redisUrl: string): Promise<void> {
  const authenticator = app.get(AdminAuthenticator);
  const logger = new Logger('QueueDashboard');
  // A connection of its own (Bull Board's reads may block on a slow Redis without holding up the
  // admin's other Redis work), named like every admin connection. Offline commands fail at once.
  const connection = new IORedis(redisUrl, { connectionName: 'switchboard-admin', maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  connection.on('error', (err: Error) => logger.debug(`queue dashboard Redis connection: ${err.message}`));
  // `skipMetasUpdate`: a Queue object otherwise writes the queue's meta key when it connects.
  const queue = new Queue(DELIVERY_QUEUE_NAME, { connection, skipMetasUpdate: true });
  queue.on('error', (err: Error) => logger.debug(`queue dashboard: ${err.message}`));
  const board = new BullBoardFastifyAdapter();
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: true, allowRetries: false, description: 'Deliveries of changes to slaves (written by the propagator)' })],
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'Switchboard queues', miscLinks: [{ text: 'Back to the console', url: '/admin/console' }] } },
  });
  board.setBasePath(QUEUE_DASHBOARD_PATH);

  const refuse = (request: FastifyRequest, reply: FastifyReply, mapped: ErrorAnswer, err: unknown) =>
    reply
      .code(mapped.status)
      .headers({ ...(mapped.headers ?? {}), 'cache-control': 'no-store', 'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8` })
      .send(toProblem(mapped, err, { requestId: String(request.id ?? '') }));

  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const routes: { method: string; url: string }[] = [];
  mounted.set(app, routes);
  await fastify.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url ?? route.path });
    });
    scope.addHook('onRequest', async (request, reply) => {
      try {
        (request as unknown as AdminRequest).adminActor = await authenticator.authenticate(request as unknown as AdminRequest);
      } catch (err) {
        const mapped = classifyError(err);
        mapped.headers = { ...(mapped.headers ?? {}), ...authFailureHeaders(err, request.protocol === 'https') };
        await refuse(request, reply, mapped, err);
        return reply;
      }
      if (!READ_METHODS.has(request.method)) {
        const mapped: ErrorAnswer = {
          status: 405,
          body: { statusCode: 405, error: 'Method Not Allowed', message: 'the queue dashboard is read-only: retry or discard deliveries through the admin API' },
          log: 'none',
          headers: { allow: 'GET, HEAD' },
        };
        await refuse(request, reply, mapped, null);
        return reply;
      }
      return undefined;
    });
    // Bull Board answers a failed read (Redis away) with 500 and the error's message: 503 instead,
    // with problem details that say no more than "unavailable".
    scope.addHook('onSend', async (request, reply, payload) => {
      reply.header('content-security-policy', DASHBOARD_CSP);
      if (reply.statusCode < 500) {
        // Bull Board's page links a Google Fonts stylesheet: the admin's browser fetches nothing from
        // another site (the page falls back to the system fonts).
        const type = String(reply.getHeader('content-type') ?? '');
        return type.startsWith('text/html') && typeof payload === 'string' ? payload.replace(EXTERNAL_STYLESHEETS, '') : payload;
      }
      reply.code(503).header('retry-after', '5').header('content-type', `${PROBLEM_CONTENT_TYPE}; charset=utf-8`).header('cache-control', 'no-store');
      const mapped: ErrorAnswer = { status: 503, body: { statusCode: 503, error: 'Service Unavailable', message: 'the queue cannot be read now (Redis unavailable); try again later' }, log: 'none', headers: { 'retry-after': '5' } };
      return JSON.stringify(toProblem(mapped, null, { requestId: String(request.id ?? '') }));
    });
    await scope.register(board.registerPlugin() as never, { prefix: QUEUE_DASHBOARD_PATH });
  });
  fastify.addHook('onClose', async () => {
    await queue.close().catch(() => undefined);
    connection.disconnect();
  });
}

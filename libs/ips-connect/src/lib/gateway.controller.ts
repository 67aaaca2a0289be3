import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BrowserChainService, ERROR_PAGE, SESSION_COOKIE, readCookie } from './browser-chain';
import {
  BrowserAction,
  ChainPlan,
  ChainRequest,
  IPS_CONNECT_PATHS,
  IPS_PARAM_NAMES,
  IpsActionRequest,
  IpsAnswer,
  Params,
  isBrowserAction,
  isIpsAction,
  paramsToObject,
  parseRequestParams,
  phpEqualsOne,
  phpJsonEncode,
  stringParam,
} from '@switchboard/ips-protocol';
import { LoginGate } from './login-gate';
import { READ_ACTIONS, IpsReadActions } from './read-actions';

/** Runs the actions that change members or slaves where they are owned (the auth service); the gateway app wires it to AuthClient. */
export interface IpsActionRunner {
  ipsAction(request: IpsActionRequest): Promise<IpsAnswer>;
  planChain(request: ChainRequest): Promise<ChainPlan>;
}
export const IPS_ACTION_RUNNER = Symbol('IPS_ACTION_RUNNER');


/**
 * The public IPS Connect endpoint: parses the request PHP-style, applies IPS's dispatch order
 * (slaveCall → DISABLED, unknown `do` → INVALID_ACTION, then the action), answers JSON exactly like
 * PHP's json_encode, and walks browsers through crossLogin / logout chains (303s). Read actions run
 * here (IpsReadActions: one query each); the others run in the auth service, which owns what they
 * change; chain state and master sessions live in Redis.
 *
 * Registered straight on Fastify (not as a Nest controller): the hot path of every slave pays for
 * no router, guard, interceptor or pipe layer it does not use. Fastify's hooks still run (request id,
 * nosniff, metrics, body parsers); every error is answered here (SERVICE_UNAVAILABLE or an error page).
 */
@Injectable()
export class IpsConnectGatewayController implements OnModuleInit {
  private readonly logger = new Logger('IpsConnect');

  constructor(
    @Inject(IPS_ACTION_RUNNER) private readonly runner: IpsActionRunner,
    private readonly chains: BrowserChainService,
    private readonly reads: IpsReadActions,
    private readonly logins: LoginGate,
    private readonly adapter: HttpAdapterHost,
  ) {}

  onModuleInit() {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    for (const path of IPS_CONNECT_PATHS) {
      fastify.all(`/${path}`, async (req, reply) => {
        try {
          await this.handle(req, reply);
        } catch (err) {
          this.logger.error(`IPS Connect request failed: ${(err as Error).message}`);
          if (!reply.sent) this.json(reply.code(200).header('retry-after', '5'), { status: 'SERVICE_UNAVAILABLE' });
        }
        return reply;
      });
    }
  }

  async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') {
      this.json(reply.code(405).header('allow', 'GET, POST'), { status: 'INVALID_ACTION' });
      return;
    }
    const rawUrl = req.raw.url ?? '';
    const q = rawUrl.indexOf('?');
    // Only form bodies are parameters (PHP fills $_POST from them alone); anything else is ignored.
    const form = typeof req.body === 'string' && /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(req.headers['content-type'] ?? '');
    const params = parseRequestParams(q === -1 ? '' : rawUrl.slice(q + 1), form ? (req.body as string) : undefined);
    const action = stringParam(params, 'do');

    if (isBrowserAction(action)) {
      await this.browser(action, params, req, reply);
      return;
    }
    const answer = await this.dispatch(action, params, req);
    // HTTP 200 like every protocol answer (spec D3); Retry-After tells a client when to try again.
    if (answer.status === 'SERVICE_UNAVAILABLE') reply.header('retry-after', '5');
    this.json(reply, answer);
  }

  private json(reply: FastifyReply, answer: IpsAnswer) {
    reply.header('content-type', 'application/json').header('cache-control', 'no-store').send(phpJsonEncode(answer));
  }

  private async dispatch(action: string | undefined, params: Params, req: FastifyRequest): Promise<IpsAnswer> {
    if (phpEqualsOne(params.get('slaveCall'))) return { status: 'DISABLED' };
    if (!isIpsAction(action)) return { status: 'INVALID_ACTION' };
    try {
      if (READ_ACTIONS.has(action)) return await this.reads.run(action, params, req.ip ?? null);
      const answer = await this.runner.ipsAction({ action, params: paramsToObject(params, IPS_PARAM_NAMES), remoteAddress: req.ip ?? null, requestId: String(req.id ?? '') || null });
      // Spec D14: a registration allows a crossLogin chain for a while, like a login.
      if (action === 'register' && answer.status === 'SUCCESS' && typeof answer['connect_id'] === 'number') await this.logins.markRecentAuth(answer['connect_id']);
      return answer;
    } catch (err) {
      this.logger.error(`do=${action} failed: ${(err as Error).message}`);
      return { status: 'SERVICE_UNAVAILABLE' };
    }
  }

  private forbidden(reply: FastifyReply, why: string) {
    this.logger.warn(`browser chain refused: ${why}`);
    reply.code(403).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(ERROR_PAGE);
  }

  private redirect(reply: FastifyReply, location: string, cookie?: string) {
    reply.code(303).header('location', location).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    if (cookie) reply.header('set-cookie', cookie);
    reply.send();
  }

  /** crossLogin / logout (spec §4, D14): first hit, or a continue hit carrying our state token. */
  private async browser(action: BrowserAction, params: Params, req: FastifyRequest, reply: FastifyReply) {
    try {
      const token = stringParam(params, 'state');
      if (token !== undefined && !params.has('key') && !phpEqualsOne(params.get('slaveCall'))) {
        await this.continueChain(action, token, req, reply);
        return;
      }
      const plan = await this.runner.planChain({ action, params: paramsToObject(params, IPS_PARAM_NAMES), remoteAddress: req.ip ?? null, requestId: String(req.id ?? '') || null });
      if (plan.outcome === 'forbidden' || !plan.returnTo) {
        this.forbidden(reply, plan.reason);
        return;
      }
      let cookie: string | undefined;
      if (plan.login && plan.memberId !== null) {
        cookie = this.chains.sessionCookie(await this.chains.createSession(plan.memberId, plan.sessionEpoch ?? 0));
      }
      if (plan.outcome === 'straight') {
        if (action === 'logout') cookie = await this.endSession(req);
        this.redirect(reply, plan.returnTo, cookie);
        return;
      }
      const state = { action, returnTo: plan.returnTo, hops: plan.hops, next: 0 };
      const stateToken = await this.chains.start(state);
      this.redirect(reply, this.chains.hopUrl(state, stateToken), cookie);
    } catch (err) {
      this.logger.error(`do=${action} failed: ${(err as Error).message}`);
      reply.code(503).header('retry-after', '5').header('content-type', 'text/html; charset=utf-8').send(ERROR_PAGE);
    }
  }

  private async continueChain(action: BrowserAction, token: string, req: FastifyRequest, reply: FastifyReply) {
    const state = await this.chains.advance(token);
    if (!state || state.action !== action) {
      this.forbidden(reply, 'unknown or expired chain state');
      return;
    }
    if (state.next < state.hops.length) {
      this.redirect(reply, this.chains.hopUrl(state, token));
      return;
    }
    // Logout ends the master session in the chain's last master response (spec §2.7, D14).
    this.redirect(reply, state.returnTo, action === 'logout' ? await this.endSession(req) : undefined);
  }

  private async endSession(req: FastifyRequest): Promise<string> {
    await this.chains.destroySession(readCookie(req.headers.cookie, SESSION_COOKIE));
    return this.chains.clearedSessionCookie();
  }
}

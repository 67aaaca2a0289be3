import { All, Controller, HttpCode, Inject, Logger, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isIpsAction, IpsActionRequest, IpsAnswer } from './protocol';
import { paramsToObject, parseRequestParams, phpEqualsOne, stringParam } from './params';
import { phpJsonEncode } from './php-json';

/** Runs an action where it is owned (the auth service); the gateway app wires it to AuthClient. */
export interface IpsActionRunner {
  ipsAction(request: IpsActionRequest): Promise<IpsAnswer>;
}
export const IPS_ACTION_RUNNER = Symbol('IPS_ACTION_RUNNER');

/** The paths IPS slaves are configured with (spec D2), all serving the same protocol. */
export const IPS_CONNECT_PATHS = [
  'ipsconnect',
  'applications/core/interface/ipsconnect/ipsconnect.php',
  'interface/ipsconnect/ipsconnect.php',
];

/**
 * The public IPS Connect endpoint: parses the request PHP-style, applies IPS's dispatch order
 * (slaveCall → DISABLED, unknown `do` → INVALID_ACTION, then the action) and answers exactly like
 * PHP's json_encode. Stateless: the action runs in the auth service.
 */
@ApiExcludeController()
@Controller()
export class IpsConnectGatewayController {
  private readonly logger = new Logger('IpsConnect');

  constructor(@Inject(IPS_ACTION_RUNNER) private readonly runner: IpsActionRunner) {}

  @All(IPS_CONNECT_PATHS)
  @HttpCode(200)
  async handle(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') {
      reply.code(405).header('allow', 'GET, POST').header('content-type', 'application/json').send(
        phpJsonEncode({ status: 'INVALID_ACTION' }),
      );
      return;
    }
    const rawUrl = req.raw.url ?? '';
    const q = rawUrl.indexOf('?');
    const query = q === -1 ? '' : rawUrl.slice(q + 1);
    const body = typeof req.body === 'string' ? req.body : undefined;
    const params = parseRequestParams(query, body);

    const answer = await this.dispatch(params, req);
    const code = answer.status === 'SERVICE_UNAVAILABLE' ? 503 : 200;
    if (code === 503) reply.header('retry-after', '5');
    reply.code(code).header('content-type', 'application/json').send(phpJsonEncode(answer));
  }

  private async dispatch(params: ReturnType<typeof parseRequestParams>, req: FastifyRequest): Promise<IpsAnswer> {
    if (phpEqualsOne(params.get('slaveCall'))) return { status: 'DISABLED' };
    const action = stringParam(params, 'do');
    if (!isIpsAction(action)) return { status: 'INVALID_ACTION' };
    try {
      return await this.runner.ipsAction({
        action,
        params: paramsToObject(params),
        remoteAddress: req.ip ?? null,
        requestId: String(req.id ?? '') || null,
      });
    } catch (err) {
      this.logger.error(`do=${action} failed: ${(err as Error).message}`);
      return { status: 'SERVICE_UNAVAILABLE' };
    }
  }
}

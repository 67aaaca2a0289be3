import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { constantTimeEqual } from '@switchboard/crypto';

export const INTERNAL_TOKEN = Symbol('INTERNAL_TOKEN');
export const INTERNAL_TOKEN_HEADER = 'x-internal-token';

/**
 * Service-to-service calls (`/internal/*` of auth and of the propagator) carry INTERNAL_TOKEN;
 * anything else is 401. The service provides INTERNAL_TOKEN.
 */
@Injectable()
export class InternalTokenGuard implements CanActivate {
  constructor(@Inject(INTERNAL_TOKEN) private readonly token: string) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const given = req.headers[INTERNAL_TOKEN_HEADER];
    if (typeof given === 'string' && constantTimeEqual(given, this.token)) return true;
    throw new UnauthorizedException('internal token required');
  }
}

import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { constantTimeEqual } from '@switchboard/crypto';

export const ADMIN_API_OPTIONS = Symbol('ADMIN_API_OPTIONS');
export interface AdminApiOptions {
  adminToken: string;
  redisUrl: string;
  /** The propagator's internal routes (dead-letter retries), and the token they take. */
  propagatorUrl: string;
  internalToken: string;
  propagatorTimeoutMs?: number;
}

/** `Authorization: Bearer <ADMIN_TOKEN>` on every admin route; 401 with WWW-Authenticate otherwise. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(ADMIN_API_OPTIONS) private readonly options: AdminApiOptions) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers['authorization'] ?? '');
    if (match && constantTimeEqual(match[1], this.options.adminToken)) return true;
    const res = context.switchToHttp().getResponse<{ header(name: string, value: string): void }>();
    res.header('www-authenticate', 'Bearer realm="switchboard-admin"');
    throw new UnauthorizedException('a valid admin bearer token is required');
  }
}

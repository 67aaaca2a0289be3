import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { INTERNAL_TOKEN_HEADER } from '@switchboard/runtime';
import { ADMIN_API_OPTIONS, AdminApiOptions } from './admin-token.guard';

/**
 * How the admin API asks the propagator (which alone writes deliveries) for dead-letter retries:
 * its internal routes over keep-alive HTTP (fetch's pooled connections), INTERNAL_TOKEN, the
 * caller's request id forwarded, a timeout. 5xx or unreachable: 503; other answers as they are.
 */
@Injectable()
export class PropagatorClient {
  constructor(@Inject(ADMIN_API_OPTIONS) private readonly options: AdminApiOptions) {}

  retryDelivery(id: string, requestId: string | null) {
    return this.request('POST', `/internal/deliveries/${encodeURIComponent(id)}/retry`, requestId);
  }

  retrySlave(id: string, requestId: string | null) {
    return this.request('POST', `/internal/slaves/${encodeURIComponent(id)}/retry`, requestId);
  }

  private async request(method: string, path: string, requestId: string | null): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(this.options.propagatorUrl + path, {
        method,
        headers: { [INTERNAL_TOKEN_HEADER]: this.options.internalToken, ...(requestId ? { 'x-request-id': requestId } : {}) },
        signal: AbortSignal.timeout(this.options.propagatorTimeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new ServiceUnavailableException(`propagator unreachable: ${(err as Error).message}`);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    if (response.status >= 500) throw new ServiceUnavailableException(`propagator answered HTTP ${response.status}`);
    return { status: response.status, body };
  }
}

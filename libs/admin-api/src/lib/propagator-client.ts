import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { discardDeliveryContract, retryDeliveryContract, retrySlaveContract } from '@switchboard/contracts';
import { InternalClient } from '@switchboard/runtime';
import { ADMIN_API_OPTIONS, AdminApiOptions } from './admin-token.guard';

/**
 * How the admin API asks the propagator (which alone writes deliveries) for dead-letter retries:
 * its internal routes (contracts of libs/contracts) over keep-alive HTTP (fetch's pooled
 * connections), INTERNAL_TOKEN, the caller's request id forwarded, a timeout. 5xx, unreachable or
 * an answer that breaks the contract: 503; other answers as they are.
 */
@Injectable()
export class PropagatorClient {
  private readonly client: InternalClient;

  constructor(@Inject(ADMIN_API_OPTIONS) options: AdminApiOptions) {
    this.client = new InternalClient({
      baseUrl: options.propagatorUrl,
      internalToken: options.internalToken,
      timeoutMs: options.propagatorTimeoutMs ?? 10_000,
      unavailable: (message) => new ServiceUnavailableException(message.replace(/^propagator service/, 'propagator')),
    });
  }

  retryDelivery(id: string, requestId: string | null) {
    return this.client.call(retryDeliveryContract, { params: { id }, requestId });
  }

  discardDelivery(id: string, requestId: string | null) {
    return this.client.call(discardDeliveryContract, { params: { id }, requestId });
  }

  retrySlave(id: string, requestId: string | null) {
    return this.client.call(retrySlaveContract, { params: { id }, requestId });
  }
}

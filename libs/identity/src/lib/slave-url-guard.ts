import { Inject, Injectable, Logger } from '@nestjs/common';
import { OutboundPolicy, OutboundRefusal, withoutCredentials } from '@switchboard/outbound';
import { CLOCK, Clock } from './clock';
import { SecurityEventsService } from './security-events.service';

/**
 * The outbound policy applied where a slave URL is registered (verifySettings, admin
 * `POST /admin/slaves`): a refused URL is logged and recorded as `slave_url_refused` with the rule
 * and the reason, its credentials (if any) never shown. See docs/ips-connect.md, "Outbound requests
 * to slaves".
 */
@Injectable()
export class SlaveUrlGuard {
  private readonly logger = new Logger('SlaveUrls');

  constructor(
    @Inject(OutboundPolicy) private readonly policy: OutboundPolicy,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly events: SecurityEventsService,
  ) {}

  /** null when `url` may be registered; otherwise the refusal, already logged and recorded. */
  async refusal(url: string, via: 'verifySettings' | 'admin', caller: string | null): Promise<OutboundRefusal | null> {
    const refusal = await this.policy.checkUrl(url);
    if (!refusal) return null;
    const shown = withoutCredentials(url).slice(0, 300);
    this.logger.warn(`slave URL refused at ${via} (rule ${refusal.rule}): ${shown}: ${refusal.message}`);
    await this.events.record(
      'slave_url_refused',
      { data: { via, url: shown, rule: refusal.rule, reason: refusal.message, temporary: refusal.temporary, caller } },
      this.clock.now(),
    );
    return refusal;
  }
}

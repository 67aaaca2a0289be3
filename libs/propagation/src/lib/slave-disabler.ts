import { Injectable, Logger } from '@nestjs/common';
import { AuthClient } from '@switchboard/auth-client';
import { DeliveryMaintenance } from './delivery-maintenance';

/**
 * The propagator's side of disabling a slave (a DISABLED / HTTP 410 answer, or auto-disable): auth
 * disables it (the same method as the IPS `disableSlave` action: the row and its `slave_disabled`
 * event), then the propagator parks its pending deliveries. If auth cannot be reached, the slave
 * stays enabled, its deliveries are tried again and the next DISABLED answer asks again.
 */
@Injectable()
export class SlaveDisabler {
  private readonly logger = new Logger('Propagation');

  constructor(
    private readonly auth: AuthClient,
    private readonly maintenance: DeliveryMaintenance,
  ) {}

  /** true when auth disabled the slave (now or before); false when it could not be asked. */
  async disable(slaveId: number, reason: string): Promise<boolean> {
    try {
      await this.auth.disableSlave(slaveId, reason);
    } catch (err) {
      this.logger.warn(`could not have slave ${slaveId} disabled (${reason}), will ask again: ${(err as Error).message}`);
      return false;
    }
    await this.maintenance.parkSlave(slaveId);
    return true;
  }
}

import { z } from 'zod';
import { contract } from './contract';
import { oneLine } from './fields';

/**
 * `POST /internal/slaves/:id/disable` (propagator → auth, which alone writes `slaves`): 200
 * `{disabled}` — true when this call disabled it, false when it already was; 404 no such slave.
 */
export const disableSlaveContract = contract({
  name: 'auth.disableSlave',
  service: 'auth',
  method: 'POST',
  path: '/internal/slaves/:id/disable',
  request: z.object({ reason: oneLine('reason').min(1).max(200) }).strict(),
  response: z.object({ disabled: z.boolean() }).strict(),
});

/** Delivery ids are int8, carried as decimal strings. */
const deliveryIds = z.object({ retried: z.array(z.string().regex(/^[1-9][0-9]{0,18}$/)) }).strict();

/** `POST /internal/deliveries/:id/retry` (admin → propagator): 202 `{retried}`; 404; 400 not dead. */
export const retryDeliveryContract = contract({ name: 'propagator.retryDelivery', service: 'propagator', method: 'POST', path: '/internal/deliveries/:id/retry', request: z.undefined(), response: deliveryIds });

/** `POST /internal/slaves/:id/retry` (admin → propagator): 202 `{retried}` (every dead letter of the slave); 404. */
export const retrySlaveContract = contract({ name: 'propagator.retrySlave', service: 'propagator', method: 'POST', path: '/internal/slaves/:id/retry', request: z.undefined(), response: deliveryIds });

/** `POST /internal/deliveries/:id/discard` (admin → propagator): 200 `{discarded}`; 404; 409 already ended. */
export const discardDeliveryContract = contract({
  name: 'propagator.discardDelivery',
  service: 'propagator',
  method: 'POST',
  path: '/internal/deliveries/:id/discard',
  request: z.undefined(),
  response: z.object({ discarded: z.string().regex(/^[1-9][0-9]{0,18}$/) }).strict(),
});

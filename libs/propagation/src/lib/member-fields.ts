import type { PropagatedAction } from '@switchboard/events';

/**
 * The member fields each propagated action sets at a slave. An older change whose every field has
 * a newer value already delivered to that slave is superseded, never sent (spec D15).
 * `delete` and `merge` set no field: they are never superseded.
 */
export const ACTION_FIELDS: Record<PropagatedAction, string[]> = {
  register: ['name', 'email', 'password', 'validation'],
  validate: ['validation'],
  delete: [],
  ban: ['ban'],
  merge: [],
  changeEmail: ['email'],
  changePassword: ['password'],
  changeName: ['name'],
};

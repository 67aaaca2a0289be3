import { Initial1795459285568 } from './1795459285568-initial';

/**
 * Every migration, in order, registered by class so that a webpack bundle runs them.
 * Generate a new one with `npm run db:migration:generate -- <Name>`, review it, add it here.
 * Never edit a migration that has landed on main.
 */
export const MIGRATIONS: Function[] = [Initial1795459285568];

import { Initial1795459285568 } from './1795459285568-initial';
import { Members1795460760548 } from './1795460760548-members';
import { Deliveries1795462485025 } from './1795462485025-deliveries';
import { AppApi1795464954276 } from './1795464954276-app-api';
import { DeliveryJobs1795500000000 } from './1795500000000-delivery-jobs';
import { PropagatorOwnership1795600000000 } from './1795600000000-propagator-ownership';
import { LoginLockouts1795700000000 } from './1795700000000-login-lockouts';
import { LoginFailureFunction1795800000000 } from './1795800000000-login-failure-function';
import { AdminTokens1795950000000 } from './1795950000000-admin-tokens';

/**
 * Every migration, in order, registered by class so that a webpack bundle runs them.
 * Generate a new one with `npm run db:migration:generate -- libs/db/src/lib/migrations/<Name>`
 * (DATABASE_URL set to a migrated scratch database), review it, add it here.
 * Never edit a migration that has landed on main.
 */
export const MIGRATIONS: Function[] = [Initial1795459285568, Members1795460760548, Deliveries1795462485025, AppApi1795464954276, DeliveryJobs1795500000000, PropagatorOwnership1795600000000, LoginLockouts1795700000000, LoginFailureFunction1795800000000, AdminTokens1795950000000];

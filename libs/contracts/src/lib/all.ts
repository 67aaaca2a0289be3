import type { Contract } from './contract';
import * as admin from './admin-commands';
import * as appApi from './app-api';
import * as commands from './internal-commands';
import * as ips from './ips';
import * as keyring from './keyring';

const isContract = (v: unknown): v is Contract =>
  typeof v === 'object' && v !== null && typeof (v as Contract).name === 'string' && typeof (v as Contract).path === 'string' && 'request' in v && 'response' in v;

/** Every internal route between our services; a test holds the controllers to this list. */
export const INTERNAL_CONTRACTS: readonly Contract[] = [ips, keyring, appApi, commands, admin].flatMap((m) => Object.values(m).filter(isContract));

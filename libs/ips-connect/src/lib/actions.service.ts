import { Inject, Injectable } from '@nestjs/common';
import { constantTimeEqual } from '@switchboard/crypto';
import { SlavesService } from '@switchboard/identity';
import { IpsActionRequest, IpsAnswer } from './protocol';
import { Params, paramsFromObject, stringParam } from './params';

export const IPS_ACTIONS_OPTIONS = Symbol('IPS_ACTIONS_OPTIONS');
export interface IpsActionsOptions {
  masterKey: string;
}

const MAX_URL_LENGTH = 2048;
const MAX_SLAVE_KEY_LENGTH = 255;

function isHttpUrl(value: string): boolean {
  if (value.length > MAX_URL_LENGTH) return false;
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname;
  } catch {
    return false;
  }
}

/**
 * Runs IPS Connect actions in the auth service, in IPS's order: key check, required parameters,
 * business rules, then the answer. One method per `do=` action.
 */
@Injectable()
export class IpsActionsService {
  constructor(
    @Inject(IPS_ACTIONS_OPTIONS) private readonly options: IpsActionsOptions,
    private readonly slaves: SlavesService,
  ) {}

  async run(request: IpsActionRequest): Promise<IpsAnswer> {
    const params = paramsFromObject(request.params);
    switch (request.action) {
      case 'verifySettings':
        return this.verifySettings(params);
    }
  }

  private masterKeyMatches(params: Params): boolean {
    const key = stringParam(params, 'key');
    return key !== undefined && constantTimeEqual(key, this.options.masterKey);
  }

  /** §2.1: register (or re-register, rotating its key) the calling slave. */
  private async verifySettings(params: Params): Promise<IpsAnswer> {
    if (!this.masterKeyMatches(params)) return { status: 'BAD_KEY' };
    const url = stringParam(params, 'url');
    const ourKey = stringParam(params, 'ourKey');
    if (!url || !ourKey || !isHttpUrl(url) || ourKey.length > MAX_SLAVE_KEY_LENGTH) return { status: 'FAILURE' };
    await this.slaves.register(url, ourKey);
    return { status: 'SUCCESS' };
  }
}

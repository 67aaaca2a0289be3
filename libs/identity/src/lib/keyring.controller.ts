import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { KeyringSnapshot, keyringContract } from '@switchboard/contracts';
import { InternalTokenGuard, answer } from '@switchboard/runtime';
import { KeyringService } from './keyring.service';

/**
 * Hands the key material to the gateway (internal port, internal token): the only way keys leave
 * the auth service, which alone issues, rotates and stores them. Never logged, never cached by HTTP.
 */
@ApiExcludeController()
@Controller('internal/keyring')
@UseGuards(InternalTokenGuard)
export class KeyringController {
  constructor(private readonly keyring: KeyringService) {}

  @Get()
  @Header('cache-control', 'no-store')
  async snapshot(): Promise<KeyringSnapshot> {
    return answer(keyringContract, await this.keyring.snapshot());
  }
}

import { DynamicModule, Global, Inject, Module } from '@nestjs/common';

export const CONFIG = Symbol('SWITCHBOARD_CONFIG');

/** Inject the validated configuration object of the running service. */
export const InjectConfig = () => Inject(CONFIG);

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: object): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] };
  }
}

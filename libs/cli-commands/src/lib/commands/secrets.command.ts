import { randomBytes } from 'node:crypto';
import { Command, SubCommand } from 'nest-commander';
import { GENERATED_SECRETS } from '@switchboard/config';
import { CliCommand, GroupCommand } from '../cli-command';

/** 256 random bits, base64url: 43 characters, nothing a shell or an .env file would mangle. */
export const freshSecret = () => randomBytes(32).toString('base64url');

const NOTES: Record<(typeof GENERATED_SECRETS)[number], string> = {
  MASTER_KEY: 'the global IPS Connect master key slaves are configured with',
  SECRETS_KEY: 'encrypts slave keys and app secrets at rest: keep it with your backups, a dump is useless without it; never change it on a running network',
  ADMIN_TOKEN: 'the bootstrap admin token (admin API, CLI)',
  INTERNAL_TOKEN: "the services' internal calls",
  METRICS_TOKEN: 'optional: the bearer a Prometheus scrape of /metrics sends on the public ports',
};

@SubCommand({
  name: 'generate',
  description: `print fresh random values for every secret setting (${GENERATED_SECRETS.join(', ')}) in .env format; nothing is stored`,
})
export class SecretsGenerateCommand extends CliCommand {
  async run(): Promise<void> {
    const values = Object.fromEntries(GENERATED_SECRETS.map((name) => [name, freshSecret()]));
    this.print(values, () => [
      '# Fresh secrets from `switchboard secrets generate` (256 random bits each). They are shown only here:',
      '# put them in .env (mode 600) or one file each for <NAME>_FILE (docker/compose.secrets.yml).',
      ...GENERATED_SECRETS.flatMap((name) => [`# ${NOTES[name]}`, `${name}=${values[name]}`]),
    ]);
  }
}

@Command({ name: 'secrets', description: 'secrets: generate', subCommands: [SecretsGenerateCommand] })
export class SecretsCommand extends GroupCommand {}

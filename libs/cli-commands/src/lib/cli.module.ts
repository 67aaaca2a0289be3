import { DynamicModule, Module } from '@nestjs/common';
import type { Command as Commander } from 'commander';
import { CommandFactory, CommandRunnerService, Option, RootCommand } from 'nest-commander';
import { CLI_ENV, CliEnv, GroupCommand } from './cli-command';
import { CliError, EXIT } from './cli-error';
import { AdminTokenCommand } from './commands/admin-token.command';
import { AppCommand } from './commands/app.command';
import { BackupCommand } from './commands/backup.command';
import { ConfigCommand } from './commands/config.command';
import { DeliveriesCommand } from './commands/deliveries.command';
import { MemberCommand } from './commands/member.command';
import { SecretsCommand } from './commands/secrets.command';
import { SlaveCommand } from './commands/slave.command';
import { err } from './output';

/**
 * `switchboard`: the options every command takes. Run alone (or with an unknown command) it is a
 * usage error that lists the commands.
 */
@RootCommand({ name: 'switchboard', description: 'Switchboard operator CLI: a client of the admin REST API (docs/cli.md)' })
export class SwitchboardCommand extends GroupCommand {
  /** The whole command tree, once nest-commander has built it. */
  tree(): Commander {
    return this.command;
  }

  @Option({ flags: '--json', description: 'machine output: the answer as JSON on stdout' })
  json(): boolean {
    return true;
  }

  @Option({ flags: '--url <url>', description: 'the admin API (default SWITCHBOARD_ADMIN_URL, else http://127.0.0.1:<ADMIN_PORT or 3002>)' })
  url(value: string): string {
    return value;
  }

  @Option({ flags: '--token-file <path>', description: 'read the admin token from this file (default SWITCHBOARD_ADMIN_TOKEN[_FILE], else ADMIN_TOKEN[_FILE])' })
  tokenFile(value: string): string {
    return value;
  }

  @Option({ flags: '--timeout <duration>', description: 'how long to wait for each answer of the admin API (default SWITCHBOARD_TIMEOUT, else 30s)' })
  timeout(value: string): string {
    return value;
  }
}

const COMMANDS = [AdminTokenCommand, SlaveCommand, MemberCommand, AppCommand, DeliveriesCommand, ConfigCommand, SecretsCommand, BackupCommand];

@Module({})
export class CliModule {
  static forRoot(env: CliEnv): DynamicModule {
    return {
      module: CliModule,
      providers: [{ provide: CLI_ENV, useValue: env }, SwitchboardCommand, ...COMMANDS.flatMap((c) => c.registerWithSubCommands())],
    };
  }
}

/** Every command of the tree, the root first. */
const allCommands = (root: Commander): Commander[] => [root, ...root.commands.flatMap((c) => allCommands(c as Commander))];

/** The exit status and the message of whatever a command ended with. */
function report(e: unknown): number {
  // Commander's own errors (usage, --help) carry a `commander.*` code and an exit code.
  const commander = e as { code?: unknown; exitCode?: unknown };
  if (typeof commander?.code === 'string' && commander.code.startsWith('commander.') && typeof commander.exitCode === 'number') {
    // Commander has printed its message (or the help) already.
    return commander.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (e instanceof CliError) {
    err(`switchboard: ${e.message}`);
    for (const line of e.details) err(`  ${line}`);
    return e.exitCode;
  }
  // A bug: one line, no stack trace (SWITCHBOARD_DEBUG=1 shows it).
  err(`switchboard: unexpected error: ${(e as Error)?.message ?? String(e)}`);
  return EXIT.FAILED;
}

/**
 * Runs the CLI on `argv` (as process.argv: node, script, arguments…) and resolves to its exit status
 * (docs/cli.md): 0 done, 1 refused by the admin API or a check failed, 2 usage, 3 cannot reach it.
 */
export async function runCli(argv: string[], env: CliEnv): Promise<number> {
  let failure: unknown;
  let status: number = EXIT.OK;
  const app = await CommandFactory.createWithoutRunning(CliModule.forRoot(env), {
    logger: false,
    // Every command's help lists the global options (--json, --url…) too.
    helpConfiguration: { showGlobalOptions: true },
    serviceErrorHandler: (e) => {
      failure = e;
    },
  });
  try {
    // nest-commander sets exitOverride on the root only: commander would call process.exit(1)
    // itself for a usage error of a subcommand. Every command throws instead, and shows the help
    // after a usage error.
    for (const command of allCommands(app.get(SwitchboardCommand).tree())) {
      command.exitOverride();
      command.showHelpAfterError('(add --help for usage)');
    }
    await app.get(CommandRunnerService).run(argv);
    if (failure !== undefined) {
      if (env['SWITCHBOARD_DEBUG'] && failure instanceof Error) err(failure.stack ?? failure.message);
      status = report(failure);
    }
  } finally {
    await app.close();
  }
  return status;
}

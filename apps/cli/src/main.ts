import { readEnvironment } from '@switchboard/config';
import { runCli } from '@switchboard/cli-commands';

/** `switchboard <command>`: the operator CLI (libs/cli-commands, docs/cli.md). */
void runCli(process.argv, readEnvironment()).then(
  (status) => process.stdout.write('', () => process.exit(status)),
  (err) => {
    process.stderr.write(`switchboard: failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  },
);

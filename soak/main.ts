/**
 * `npm run soak`: the full soak under faults (soak/soak.ts), bounded to 10 minutes. Prints
 * `lost=N out_of_order=N duplicated=N changes=N deliveries=N seconds=N` and the load figures;
 * exits 0 only when the first three are 0 and every other check holds (1 otherwise; 3 when they
 * hold but a loaded machine made fewer changes than planned within the bound). Progress goes to
 * stderr.
 *
 * SOAK_CHANGES, SOAK_SLAVES and SOAK_SEED override the size and the random choices.
 */
import { killEverythingNow } from '../e2e/src/support/soak/services';
import { FULL, runSoak } from '../e2e/src/support/soak/soak';

const controller = new AbortController();
let interrupted = 0;
process.on('SIGINT', () => {
  // First Ctrl-C: stop and clean up; second: end everything now.
  if (++interrupted > 1) process.exit(130);
  process.stderr.write('[soak] interrupted: cleaning up\n');
  controller.abort();
});
process.on('exit', () => killEverythingNow());

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);

async function main() {
  const result = await runSoak({
    ...FULL,
    changes: num('SOAK_CHANGES', FULL.changes),
    slaves: num('SOAK_SLAVES', FULL.slaves),
    seed: num('SOAK_SEED', 20261124),
    log: (line) => process.stderr.write(line + '\n'),
    signal: controller.signal,
  });
  process.stdout.write(result.line + '\n');
  for (const line of result.details) process.stdout.write('  ' + line + '\n');
  for (const line of result.examples) process.stdout.write('  ! ' + line + '\n');
  const ok =
    result.converged &&
    result.lost === 0 &&
    result.outOfOrder === 0 &&
    result.duplicated === 0 &&
    result.stateMismatched === 0 &&
    result.masterMismatched === 0 &&
    result.slaveRefusals === 0 &&
    result.adminUnhealthy === 0 &&
    result.callErrors === 0 &&
    !result.faults.some((f) => f.startsWith('FAILED'));
  if (ok && !result.complete) {
    process.stdout.write(`  incomplete: ${result.changes} of the planned changes were made within the bound (a loaded machine); exit status 3\n`);
  }
  process.exitCode = ok ? (result.complete ? 0 : 3) : 1;
}

main().catch((err) => {
  process.stderr.write(`[soak] failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});

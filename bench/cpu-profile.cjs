// Preloaded into the bench's worker processes when BENCH_CPU_PROF_DIR is set (NODE_OPTIONS does not
// accept --cpu-prof, and Nest re-raises SIGTERM, so --cpu-prof would not write anyway): profiles the
// process from its start and writes <dir>/<pid>.cpuprofile on SIGUSR2, which the bench sends after
// the throughput rounds.
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.start');
process.once('SIGUSR2', () => {
  session.post('Profiler.stop', (err, result) => {
    if (!err) writeFileSync(join(process.env.BENCH_CPU_PROF_DIR, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
});

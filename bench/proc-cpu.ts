import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100;

/**
 * CPU time (ms, user + system) used so far by every process of the machine, summed by program name
 * (node, postgres, redis-server), and by the process `workerPid` alone under `worker`.
 */
export function cpuByProgram(workerPid?: number): Map<string, number> {
  const cpu = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
      const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
      cpu.set(name, (cpu.get(name) ?? 0) + ms);
      if (Number(pid) === workerPid) cpu.set('worker', ms);
    } catch {
      /* the process ended meanwhile */
    }
  }
  return cpu;
}

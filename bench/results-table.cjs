// Prints bench/results.json (or the file given) as the Markdown table BENCHMARKS.md carries.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const results = JSON.parse(readFileSync(process.argv[2] ?? join(__dirname, 'results.json'), 'utf8'));
const f = (v, d = 1) => (v === null || v === undefined ? '–' : Number(v).toFixed(d));
const m = results.machine;
console.log(`Run of ${m.date}, commit ${m.commit}: ${m.cores} cores (${m.cpu}), load average at start ${m.loadavg_at_start.join(' ')}, ${m.memory_gib} GiB, node ${m.node}; ${results.duration_s} s.\n`);
console.log('| row | value | unit | baseline | ratio | p50 ms | p99 ms | × pg route | target | met |');
console.log('|---|--:|---|--:|--:|--:|--:|--:|---|---|');
for (const r of results.rows) {
  const met = r.met === true ? 'met' : r.met === false ? '**not met**' : '';
  console.log(`| ${r.name} | ${f(r.value)} | ${r.unit} | ${f(r.baseline)} (${r.baseline_of}) | ${f(r.ratio, 3)} | ${f(r.p50_ms)} | ${f(r.p99_ms)} | ${f(r.ratio_pg, 2)} | ${r.target ?? ''} | ${met} |`);
}

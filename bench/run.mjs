// `npm run bench`: runs every bench/*.bench.mjs with its baseline in the same run and writes bench/RESULTS.md.
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import puppeteer from 'puppeteer-core';
import { startDemoServer } from '../scripts/demo-server.mjs';
import { CHROMIUM_ARGS } from '../web-test-runner.config.mjs';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const version = (cmd, args) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .split('\n')[0]
    .trim();

const server = await startDemoServer({ port: 0, config: {} });
const origin = `http://127.0.0.1:${server.address().port}`;
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const browser = await puppeteer.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
const rows = [];
const notes = [];
try {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  await page.evaluate(async () => (await import('/sdk/index.js')).setAssetBaseUrl('/sdk/'));
  const files = readdirSync(import.meta.dirname)
    .filter((f) => f.endsWith('.bench.mjs'))
    // BENCH_ONLY=bridge runs only the benches whose file name contains it (and leaves RESULTS.md alone).
    .filter((f) => !process.env.BENCH_ONLY || f.includes(process.env.BENCH_ONLY))
    .sort();
  for (const file of files) {
    const bench = await import(`./${file}`);
    process.stdout.write(`▶ ${bench.name}\n`);
    // A bench returns one comparison, or `{ rows, notes }` for several (each row names itself).
    const output = await bench.run({ page, repeats: REPEATS });
    for (const result of output.rows ?? [output]) {
      const ours = median(result.ours);
      const baseline = median(result.baseline);
      rows.push({ name: bench.name, ...result, oursMedian: ours, baselineMedian: baseline, ratio: ours / baseline });
      process.stdout.write(
        `  ${result.oursLabel}: ${ours.toFixed(1)} ${result.unit} · ${result.baselineLabel}: ${baseline.toFixed(1)} ${result.unit} · ratio ${(ours / baseline).toFixed(2)}\n`,
      );
    }
    if (output.notes?.length) {
      notes.push(`### ${bench.name}`, '', ...output.notes, '');
      process.stdout.write(`${output.notes.join('\n')}\n`);
    }
  }
} finally {
  await browser.close();
  server.close();
}

const machine = [
  `- Date: ${new Date().toISOString().slice(0, 10)}`,
  `- CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length} cores; memory ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Linux ${release()}`,
  `- Node ${process.version}; ${version(executablePath, ['--version'])}; ${version('ffmpeg', ['-version'])}`,
  `- Each figure is the median of ${REPEATS} runs; the two sides alternate within one run of \`npm run bench\`.`,
];
const table = [
  '| Benchmark | framewire | baseline | ratio (framewire / baseline) |',
  '|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.oursLabel}: **${r.oursMedian.toFixed(1)} ${r.unit}** (runs: ${r.ours.map((v) => v.toFixed(0)).join(', ')}) | ${r.baselineLabel}: **${r.baselineMedian.toFixed(1)} ${r.unit}** (runs: ${r.baseline.map((v) => v.toFixed(0)).join(', ')}) | **${r.ratio.toFixed(2)}** |`,
  ),
];
if (process.env.BENCH_ONLY) {
  // The rows, ready to paste into RESULTS.md.
  console.log(table.slice(2).join('\n'));
  console.log('BENCH_ONLY set: bench/RESULTS.md left as it is');
  process.exit(0);
}
writeFileSync(
  new URL('./RESULTS.md', import.meta.url),
  [
    '# Benchmark results',
    '',
    'Written by `npm run bench`. Higher is better for fps; lower is better for ms (latency).',
    '',
    '## Machine',
    '',
    ...machine,
    '',
    '## Results',
    '',
    ...table,
    '',
    ...(notes.length ? ['## Notes', '', ...notes] : []),
  ].join('\n'),
);
console.log('wrote bench/RESULTS.md');

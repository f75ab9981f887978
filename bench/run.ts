// npm run bench [-- --quick] [SCENARIO...]: runs benchmark scenarios, prints a table and writes
// the figures as JSON under bench/results/.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { VERSION } from '../src/version.ts';
import type { Measurement, Scenario } from './harness.ts';
import { engineScenario } from './engine.ts';
import { renderScenario } from './render.ts';
import { scaleScenario } from './scale.ts';
import { uiScenario } from './ui.ts';

const SCENARIOS: Scenario[] = [renderScenario, engineScenario, scaleScenario, uiScenario];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { quick: { type: 'boolean' } },
});
const unknown = positionals.filter((p) => !SCENARIOS.some((s) => s.name === p));
if (unknown.length > 0) {
  console.error(
    `bench: unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}
// Stopped from outside: exit through 'exit', where the scenarios stop the processes they started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const chosen = positionals.length > 0 ? SCENARIOS.filter((s) => positionals.includes(s.name)) : SCENARIOS;
const quick = values.quick ?? false;
const log = (line: string) => console.error(`  ${line}`);

const results: Measurement[] = [];
const started = new Date();
for (const scenario of chosen) {
  console.error(`bench ${scenario.name}: ${scenario.summary}${quick ? ' (quick)' : ''}`);
  results.push(...(await scenario.run({ quick, log })));
}

for (const scenario of chosen.filter((s) => s.settings)) {
  console.log(`\n${scenario.name} settings:`);
  for (const [what, value] of Object.entries(scenario.settings ?? {})) console.log(`  ${what}: ${value}`);
}
const width = Math.max(...results.map((r) => `${r.scenario} ${r.name}`.length));
console.log(`\n${'measurement'.padEnd(width)}  ${'value'.padStart(12)}  unit`);
for (const r of results) {
  const value = r.value >= 100 ? r.value.toFixed(0) : r.value.toFixed(2);
  console.log(
    `${`${r.scenario} ${r.name}`.padEnd(width)}  ${value.padStart(12)}  ${r.unit}${r.note ? `  (${r.note})` : ''}`,
  );
}

const dir = join(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
const file = join(
  dir,
  `${started.toISOString().replace(/[:.]/g, '-')}-${chosen.map((s) => s.name).join('+')}.json`,
);
await writeFile(
  file,
  JSON.stringify(
    {
      cairn: VERSION,
      date: started.toISOString(),
      quick,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      settings: Object.fromEntries(chosen.filter((s) => s.settings).map((s) => [s.name, s.settings])),
      minutes: Number(((Date.now() - started.getTime()) / 60_000).toFixed(1)),
      results,
    },
    null,
    2,
  ),
);
console.error(
  `\n${((Date.now() - started.getTime()) / 60_000).toFixed(1)} minutes; results written to ${file}`,
);

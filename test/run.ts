// The test command: starts (or reuses) the shared test cluster, runs the suite with Node's test
// runner, then the serial tests (private instances, stopped components) one file at a time.
//
//   node test/run.ts                 the project's own suite
//   node test/run.ts --corpus        the suite over third-party repositories in $CAIRN_TEST_CORPUS
//   node test/run.ts FILE...         only these files
import { existsSync, globSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { parseArgs } from 'node:util';
import { ControlPlane, defaultControlPlaneOptions } from './harness/controlplane.ts';
import { REPO_ROOT } from './harness/tools.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { corpus: { type: 'boolean' }, concurrency: { type: 'string' } },
});

function fail(message: string): never {
  console.error(`test: ${message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const patterns = values.corpus ? ['test/corpus/**/*.test.ts'] : ['src/**/*.test.ts', 'test/**/*.test.ts'];
const chosen = positionals.length > 0 ? positionals.map((p) => resolve(p)) : undefined;
const all = (
  chosen ?? patterns.flatMap((p) => globSync(p, { cwd: REPO_ROOT }).map((f) => resolve(REPO_ROOT, f)))
)
  .filter((f) => values.corpus || chosen || !f.includes('/test/corpus/'))
  .sort();
if (all.length === 0) fail('no test files found');

if (values.corpus) {
  const corpus = process.env.CAIRN_TEST_CORPUS;
  if (!corpus) fail('CAIRN_TEST_CORPUS is not set: point it at the folder of third-party repositories');
  if (!existsSync(corpus) || !statSync(corpus).isDirectory())
    fail(`CAIRN_TEST_CORPUS=${corpus} is not a folder`);
}

const serial = all.filter((f) => f.endsWith('.serial.test.ts'));
const parallel = all.filter((f) => !f.endsWith('.serial.test.ts'));

const clusterName = process.env.CAIRN_TEST_CLUSTER ?? 'default';
const existing = await ControlPlane.open({ root: defaultControlPlaneOptions().root, name: clusterName });
const alreadyUp = existing !== undefined && (await existing.status()).apiserverReady;
const started = Date.now();
const plane = await ControlPlane.up({ name: clusterName }, (line) => console.error(`cluster: ${line}`)).catch(
  (e: unknown) => fail(`cannot start the test cluster: ${e instanceof Error ? e.message : String(e)}`),
);
if (!alreadyUp) console.error(`cluster: started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.env.CAIRN_TEST_CLUSTER = clusterName;
process.env.PATH = `${plane.binPath}:${process.env.PATH}`;

const counts = { passed: 0, failed: 0, skipped: 0 };

async function runFiles(files: string[], concurrency: number): Promise<void> {
  if (files.length === 0) return;
  const stream = run({ files, concurrency, timeout: 15 * 60_000, isolation: 'process' });
  stream.on('test:pass', (event) => {
    if (event.details.type === 'suite') return;
    if (event.skip || event.todo) counts.skipped++;
    else counts.passed++;
  });
  stream.on('test:fail', (event) => {
    if (event.details.type === 'suite') return;
    counts.failed++;
  });
  const done = new Promise<void>((resolve) => stream.on('end', () => resolve()));
  stream.compose(spec).pipe(process.stdout);
  await done;
}

try {
  await runFiles(parallel, Number(values.concurrency ?? 2));
  await runFiles(serial, 1);
} finally {
  if (!alreadyUp && !process.env.CAIRN_TEST_KEEP_CLUSTER) {
    await plane.down();
    console.error(`cluster: ${clusterName} stopped`);
  }
}

// Any skipped test fails the run: a skipped test is never counted as passing.
console.log(
  `\n${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`,
);
process.exit(counts.failed > 0 || counts.skipped > 0 || counts.passed === 0 ? 1 : 0);

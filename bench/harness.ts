// What every benchmark scenario shares: timing, CPU and memory sampling, results as data.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuUsage, memoryUsage } from 'node:process';
import { promisify } from 'node:util';
import {
  ControlPlane,
  defaultControlPlaneOptions,
  type ControlPlaneOptions,
} from '../test/harness/controlplane.ts';

/** One measured figure. */
export interface Measurement {
  scenario: string;
  name: string;
  value: number;
  unit: string;
  /** What it is compared with, or how it was measured. */
  note?: string;
}

export interface ScenarioContext {
  quick: boolean;
  log: (line: string) => void;
}

export interface Scenario {
  name: string;
  summary: string;
  /** The fixed settings the figures hold for (control-plane flags, client limits), printed beside them. */
  settings?: Record<string, string>;
  run(ctx: ScenarioContext): Promise<Measurement[]>;
}

export interface Timed<T> {
  result: T;
  ms: number;
  cpuMs: number;
}

/** Wall time and this process's CPU time of one call. */
export async function timed<T>(fn: () => Promise<T>): Promise<Timed<T>> {
  const cpu = cpuUsage();
  const start = performance.now();
  const result = await fn();
  const ms = performance.now() - start;
  const used = cpuUsage(cpu);
  return { result, ms, cpuMs: (used.user + used.system) / 1000 };
}

/**
 * Runs `fn` repeatedly for at least `minMs` (and at least `minRuns` times) after `warmup` runs and
 * returns operations per second over the measured runs.
 */
export async function throughput(
  fn: () => Promise<unknown>,
  options: { minMs: number; minRuns: number; warmup: number },
): Promise<{ perSecond: number; runs: number; msPerRun: number }> {
  for (let i = 0; i < options.warmup; i++) await fn();
  let runs = 0;
  const start = performance.now();
  while (runs < options.minRuns || performance.now() - start < options.minMs) {
    await fn();
    runs++;
  }
  const ms = performance.now() - start;
  return { perSecond: (runs * 1000) / ms, runs, msPerRun: ms / runs };
}

export function rssMiB(): number {
  return memoryUsage().rss / (1024 * 1024);
}

/**
 * `cairn` as the image runs it: the sources compiled to JavaScript (no type stripping at run
 * time), in a folder of its own. Returns the path of its `bin/cairn.js`.
 */
export async function compiledCairn(repoRoot: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-build-'));
  await promisify(execFile)(
    process.execPath,
    [
      join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(repoRoot, 'tsconfig.build.json'),
      '--outDir',
      join(dir, 'dist'),
      '--declaration',
      'false',
      '--sourceMap',
      'false',
    ],
    { maxBuffer: 16 << 20 },
  );
  await mkdir(join(dir, 'bin'));
  await cp(join(repoRoot, 'bin', 'cairn.js'), join(dir, 'bin', 'cairn.js'));
  await cp(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, 'bin', 'cairn.js');
}

/** The p-th percentile (nearest rank) of some samples. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/**
 * A control plane with nothing in it: one left by a run that was stopped (same name, its etcd
 * data still there) is removed first, or its objects would be measured as this run's.
 */
export async function freshPlane(
  options: Partial<ControlPlaneOptions> & { name: string },
  log: (line: string) => void = () => {},
): Promise<ControlPlane> {
  const left = await ControlPlane.open({ root: defaultControlPlaneOptions().root, ...options });
  if (left) {
    log(`cluster ${options.name}: removing the one an earlier run left`);
    await left.down();
  }
  return ControlPlane.up(options, log);
}

// What every benchmark scenario shares: timing, CPU and memory sampling, results as data.
import { cpuUsage, memoryUsage } from 'node:process';

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

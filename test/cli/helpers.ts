// Running the real `cairn` process from CLI tests, and golden files for what it prints for people.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/tools.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cairn ARGS` as its own process (not a terminal: no progress lines, no colour). */
export function runCairn(
  args: string[],
  options: { kubeconfig?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'cairn.js'), ...args],
      {
        env: {
          ...process.env,
          NO_COLOR: '1',
          ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}),
          ...options.env,
        },
        ...(options.cwd ? { cwd: options.cwd } : {}),
        timeout: options.timeoutMs ?? 240_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Compares with test/fixtures/cli/golden/NAME.txt; UPDATE_GOLDEN=1 rewrites it instead. */
export async function assertGolden(name: string, text: string): Promise<void> {
  const path = join(REPO_ROOT, 'test', 'fixtures', 'cli', 'golden', `${name}.txt`);
  if (process.env.UPDATE_GOLDEN === '1') {
    await writeFile(path, text);
    return;
  }
  assert.ok(existsSync(path), `no golden file ${path}: run the test with UPDATE_GOLDEN=1 to create it`);
  assert.equal(
    text,
    await readFile(path, 'utf8'),
    `${name} differs from its golden file (UPDATE_GOLDEN=1 updates it)`,
  );
}

/** A kubeconfig whose API server does not answer. */
export function unreachableKubeconfig(): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: gone, cluster: {server: "https://127.0.0.1:9"}}]',
    'users: [{name: gone, user: {token: none}}]',
    'contexts: [{name: gone, context: {cluster: gone, user: gone}}]',
    'current-context: gone',
    '',
  ].join('\n');
}

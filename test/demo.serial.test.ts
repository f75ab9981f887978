// The demo, as a person runs it on a fresh clone (here with --exit-when-healthy and a time limit).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ControlPlane, defaultControlPlaneOptions } from './harness/controlplane.ts';
import { uniqueName } from './harness/index.ts';
import { REPO_ROOT } from './harness/tools.ts';

test('npm run demo brings every example to Synced and Healthy, then stops everything', async () => {
  const name = uniqueName('demo-test');
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
    (resolve) =>
      execFile(
        process.execPath,
        [join(REPO_ROOT, 'scripts', 'demo.ts'), '--exit-when-healthy', '--name', name, '--timeout', '300'],
        { timeout: 600_000, maxBuffer: 16 << 20 },
        (error, out, err) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
      ),
  );
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  for (const app of ['guestbook', 'podinfo', 'shop'])
    assert.match(stdout, new RegExp(`^  ${app}\\s+Synced / Healthy$`, 'm'));
  assert.match(stdout, /Every example is Synced and Healthy\./);
  // Once healthy, it says what to try next: a tree, a drift to watch reverted, a commit to push.
  assert.match(stdout, /What to try next:/);
  assert.match(stdout, /Web UI: http:\/\/127\.0\.0\.1:\d+\/ \(log in as admin, password \S+;/);
  assert.match(stdout, /cairn app tree guestbook -n cairn-system /);
  assert.match(stdout, /kubectl scale deployment guestbook -n guestbook --replicas=5 /);
  assert.match(stdout, /git clone http:\/\/127\.0\.0\.1:\d+\/examples\.git /);
  const dir = ControlPlane.dirOf({ ...defaultControlPlaneOptions(), name });
  const left = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    });
  assert.deepEqual(left, [], 'no process of the demo is left');
});

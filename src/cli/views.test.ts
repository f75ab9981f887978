// Golden tests of what the CLI prints for people, from fixed objects and a fixed time
// (test/fixtures/cli/objects.yaml); UPDATE_GOLDEN=1 rewrites the golden files on purpose.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { Application, GitRepository } from '../api/types.ts';
import type { KubeObject } from '../cluster/objects.ts';
import { resourceTree, traceObject } from '../inspect/index.ts';
import { groupHelpText, helpText, type Command } from './command.ts';
import { completionScript } from './completion.ts';
import { COMMANDS } from './main.ts';
import {
  applicationDetails,
  applicationTable,
  eventRow,
  eventTable,
  historyTable,
  sourceDetails,
  sourceTable,
  traceText,
  treeText,
} from './views.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'cli');
const now = new Date('2026-11-26T12:00:00Z');

interface Fixtures {
  applications: Application[];
  repositories: GitRepository[];
  events: KubeObject[];
  live: KubeObject[];
  traced: KubeObject;
}

const fixtures = readFile(join(FIXTURES, 'objects.yaml'), 'utf8').then((t) => parse(t) as Fixtures);

async function assertGolden(name: string, actual: string): Promise<void> {
  const path = join(FIXTURES, 'golden', `${name}.txt`);
  const text = `${actual}\n`;
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

test('app list: table, wide and all namespaces', async () => {
  const { applications } = await fixtures;
  await assertGolden('app-list', applicationTable(applications, { now }));
  await assertGolden(
    'app-list-wide-all',
    applicationTable(applications, { now, wide: true, allNamespaces: true }),
  );
});

test('app get shows the pin, the last sync and the objects', async () => {
  const [shop, web] = (await fixtures).applications as [Application, Application];
  await assertGolden('app-get-pinned', applicationDetails(shop, { now }));
  await assertGolden('app-get-manual', applicationDetails(web, { now, wide: true }));
});

test('app history lists ids oldest first and names the pin', async () => {
  const [shop] = (await fixtures).applications as [Application];
  await assertGolden('app-history', historyTable(shop, { now }));
  await assertGolden('app-history-wide', historyTable(shop, { now, wide: true }));
});

test('app tree nests ReplicaSets and Pods under their Deployment', async () => {
  const { applications, live } = await fixtures;
  const shop = applications[0]!;
  const tree = resourceTree(shop.status?.resources ?? [], live);
  assert.deepEqual(
    tree[1]?.children.map((c) => [c.name, c.children.map((p) => p.name)]),
    [
      ['cart-5c7a', []],
      ['cart-6d8f', ['cart-6d8f-a1', 'cart-6d8f-b2']],
    ],
  );
  await assertGolden('app-tree', treeText(shop, tree, { now }));
});

test('source list and source get', async () => {
  const { repositories, applications } = await fixtures;
  await assertGolden('source-list-all', sourceTable(repositories, { now, allNamespaces: true, wide: true }));
  await assertGolden('source-get', sourceDetails(repositories[0]!, [applications[1]!], { now }));
});

test('events, oldest first', async () => {
  const { events } = await fixtures;
  await assertGolden('events', eventTable(events.map(eventRow), { now }));
});

test('trace names the Application, its source, the revision and the commit that last changed the object', async () => {
  const { traced, applications, repositories } = await fixtures;
  const result = traceObject(traced, applications[0], repositories[1]);
  assert.ok(result);
  assert.equal(result.application.name, 'shop');
  assert.equal(result.lastChangedBy?.commit, '1111111111111111111111111111111111111111');
  await assertGolden('trace', traceText(result, { now }));
  assert.equal(
    traceObject({ ...traced, metadata: { name: 'x', namespace: 'y' } }, undefined, undefined),
    undefined,
  );
});

test('colour codes take no width in tables', async () => {
  const { applications } = await fixtures;
  const plain = applicationTable(applications, { now }).split('\n');
  const coloured = applicationTable(applications, { now, color: true })
    .split('\n')
    // eslint-disable-next-line no-control-regex -- colour codes start with ESC
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
  assert.deepEqual(coloured, plain);
  assert.ok(applicationTable(applications, { now, color: true }).includes('\x1b[32mSynced\x1b[0m'));
});

test('bash completion completes commands, subcommands and flags', async () => {
  const script = completionScript('bash', COMMANDS);
  const complete = async (words: string[]) => {
    const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _cairn; echo "\${COMPREPLY[@]}"`;
    const { stdout } = await promisify(execFile)('bash', ['-c', program]);
    return stdout.trim().split(' ');
  };
  assert.ok((await complete(['cairn', 'a'])).includes('app'));
  assert.deepEqual(await complete(['cairn', 'app', 'ro']), ['rollback']);
  assert.ok((await complete(['cairn', 'app', 'sync', '--re'])).includes('--revision'));
  assert.deepEqual(await complete(['cairn', 'completion', 'z']), ['zsh']);
  // A NAME comes from `cairn app list -o name`, with the line's namespace; a flag's value does not.
  const names = async (words: string[]) => {
    const program = `${script}\ncairn() { echo "$*" >&3; printf 'shop\\nshipping\\ncart\\n'; }\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _cairn 3>&2; echo "\${COMPREPLY[@]}"`;
    const { stdout, stderr } = await promisify(execFile)('bash', ['-c', program]);
    return { offered: stdout.trim().split(' ').filter(Boolean), asked: stderr.trim() };
  };
  assert.deepEqual(await names(['cairn', 'app', 'sync', '-n', 'team', 'sh']), {
    offered: ['shop', 'shipping'],
    asked: 'app list -o name -n team',
  });
  assert.deepEqual(await names(['cairn', 'source', 'get', 'c']), {
    offered: ['cart'],
    asked: 'source list -o name',
  });
  assert.equal((await names(['cairn', 'app', 'sync', '-n', 's'])).asked, '', 'the value of -n is not a NAME');
  assert.equal((await names(['cairn', 'app', 'list', 's'])).asked, '', 'list takes no NAME');
  assert.match(completionScript('fish', COMMANDS), /-a rollback -d 'apply the revision of an earlier sync/);
  assert.match(completionScript('zsh', COMMANDS), /^autoload -U \+X bashcompinit/m);
});

test('every command and subcommand has --help with examples; the app group and sync help are golden', async () => {
  const leaves = (commands: readonly Command[], prefix: string): [string, Command][] =>
    commands.flatMap((c) =>
      c.subcommands
        ? leaves(c.subcommands, `${prefix}${c.name} `)
        : [[`${prefix}${c.name}`, c] as [string, Command]],
    );
  for (const [path, command] of leaves(COMMANDS, '')) {
    assert.ok(command.examples.length > 0, `cairn ${path} has examples`);
    assert.match(helpText(command), /\nExamples:\n {2}\S/, `cairn ${path} --help shows them`);
  }
  const app = COMMANDS.find((c) => c.name === 'app')!;
  await assertGolden('app-help', groupHelpText(app));
  await assertGolden('app-sync-help', helpText(app.subcommands!.find((c) => c.name === 'sync')!));
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KubeconfigError, loadKubeconfig } from './kubeconfig.ts';

async function withFiles(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-kubeconfig-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('inline credentials of the current context', async () => {
  const config = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ${b64('CA PEM')}}
users:
- name: u1
  user: {client-certificate-data: ${b64('CERT PEM')}, client-key-data: ${b64('KEY PEM')}}
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: shop}
`;
  await withFiles({ config }, async (dir) => {
    const loaded = await loadKubeconfig(join(dir, 'config'));
    assert.equal(loaded.context, 'dev');
    assert.equal(loaded.namespace, 'shop');
    assert.equal(loaded.connection.server, 'https://127.0.0.1:6443');
    assert.equal(loaded.connection.ca, 'CA PEM');
    assert.equal(loaded.connection.clientCertificate, 'CERT PEM');
    assert.equal(loaded.connection.clientKey, 'KEY PEM');
  });
});

test('file credentials resolve relative to the kubeconfig, a token file is read and trimmed', async () => {
  const config = `
current-context: a
clusters: [{name: c, cluster: {server: "https://h:1", certificate-authority: ca.crt}}]
users: [{name: u, user: {tokenFile: token}}]
contexts: [{name: a, context: {cluster: c, user: u}}, {name: b, context: {cluster: c}}]
`;
  await withFiles({ config, 'ca.crt': 'FILE CA', token: 'abc123\n' }, async (dir) => {
    const a = await loadKubeconfig(join(dir, 'config'));
    assert.equal(a.connection.ca, 'FILE CA');
    assert.equal(a.connection.token, 'abc123');
    const b = await loadKubeconfig(join(dir, 'config'), 'b');
    assert.equal(b.connection.token, undefined);
  });
});

test('errors name the file and what is missing', async () => {
  const config = `
current-context: gone
clusters: [{name: c, cluster: {server: "https://h:1"}}]
contexts: [{name: a, context: {cluster: nowhere}}]
`;
  await withFiles({ config }, async (dir) => {
    const file = join(dir, 'config');
    await assert.rejects(
      loadKubeconfig(file),
      (e: Error) => e instanceof KubeconfigError && e.message === `${file}: context "gone" not found`,
    );
    await assert.rejects(loadKubeconfig(file, 'a'), new RegExp(`${file}: cluster "nowhere" not found`));
    await assert.rejects(loadKubeconfig(join(dir, 'absent')), /absent: cannot read kubeconfig/);
  });
});

test('exec credentials are refused clearly rather than ignored', async () => {
  const config = `
current-context: a
clusters: [{name: c, cluster: {server: "https://h:1"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: a, context: {cluster: c, user: u}}]
`;
  await withFiles({ config }, async (dir) => {
    await assert.rejects(
      loadKubeconfig(join(dir, 'config')),
      /user u: exec and auth-provider credentials are not supported/,
    );
  });
});

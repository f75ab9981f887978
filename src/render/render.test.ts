// The render stage end to end, with the real kustomize and helm: golden files over the project's own
// fixtures, the digest and cache, tool failures, and the YAML scalar policy against the API server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { KubeApiError } from '../cluster/client.ts';
import type { KubeObject } from '../cluster/objects.ts';
import { gitRepoFrom, newNamespace, withCluster } from '../../test/harness/index.ts';
import {
  FIXTURES,
  assertGolden,
  assertRenderFails,
  fixtureCopy,
  goldenText,
  request,
  tempRepo,
} from '../../test/render/helpers.ts';
import { RenderErrorReason } from './errors.ts';
import { Renderer, render } from './renderer.ts';

const run = promisify(execFile);

test('plain folder: every YAML and JSON file below it in path order, Lists expanded; golden', async () => {
  const result = await render(request(FIXTURES, 'plain-app'));
  assert.equal(result.renderer, 'plain');
  assert.deepEqual(result.files, [
    'plain-app/accounts.yaml',
    'plain-app/config/configmap.yaml',
    'plain-app/config/network-policy.json',
    'plain-app/deployment.yaml',
    'plain-app/rbac.yaml',
    'plain-app/service.yaml',
    'plain-app/tool-config.yaml',
  ]);
  assert.deepEqual(
    result.manifests.map((m) => `${m.object.kind}/${m.object.metadata.name}`),
    [
      'ServiceAccount/web',
      'ServiceAccount/web-migrations',
      'ConfigMap/web-config',
      'NetworkPolicy/web-ingress',
      'Deployment/web',
      'Role/web-reader',
      'RoleBinding/web-reader',
      'Service/web',
    ],
  );
  assert.deepEqual(result.manifests[1]?.source, { file: 'plain-app/accounts.yaml', document: 1, item: 2 });
  assert.deepEqual(result.manifests[6]?.source, { file: 'plain-app/rbac.yaml', document: 3 });
  assert.deepEqual(
    result.warnings.map((w) => w.file),
    ['plain-app/tool-config.yaml'],
  );
  const deployment = result.manifests.find((m) => m.object.kind === 'Deployment')?.object as KubeObject & {
    spec: { template: { spec: { volumes: Array<{ configMap: { defaultMode: number } }> } } };
  };
  assert.equal(
    deployment.spec.template.spec.volumes[0]?.configMap.defaultMode,
    0o644,
    'YAML 1.1 octal, as kubectl sends it',
  );
  await assertGolden('plain-app', goldenText(result));
});

test('kustomize overlays build across ../ inside the repository; only the files the build used are read; golden', async () => {
  const dev = await render(request(FIXTURES, 'kustomize/overlays/dev'));
  assert.equal(dev.renderer, 'kustomize');
  assert.deepEqual(dev.files, [
    'kustomize/base/deployment.yaml',
    'kustomize/base/kustomization.yaml',
    'kustomize/base/service.yaml',
    'kustomize/overlays/dev/app.env',
    'kustomize/overlays/dev/app.properties',
    'kustomize/overlays/dev/kustomization.yaml',
    'kustomize/overlays/dev/replicas.yaml',
  ]);
  assert.ok(dev.manifests.every((m) => m.source.file === 'kustomize/overlays/dev/kustomization.yaml'));
  assert.deepEqual(
    dev.manifests.map((m) => `${m.object.kind}/${m.object.metadata.namespace}/${m.object.metadata.name}`),
    [
      'ConfigMap/shop-dev/dev-api-config-5bk7kk867g',
      'Service/shop-dev/dev-api',
      'Deployment/shop-dev/dev-api',
    ],
  );
  await assertGolden('kustomize-dev', goldenText(dev));
  const prod = await render(request(FIXTURES, 'kustomize/overlays/prod'));
  assert.ok(prod.files.includes('kustomize/components/monitoring/service-monitor.yaml'));
  await assertGolden('kustomize-prod', goldenText(prod));
});

test('helm chart with a file:// dependency, values files and inline values; objects attributed to templates; golden', async () => {
  const plain = await render(request(FIXTURES, 'helm/web'));
  assert.equal(plain.renderer, 'helm');
  assert.deepEqual(
    plain.manifests.map((m) => `${m.object.kind}/${m.object.metadata.name} ${m.source.file}`),
    [
      'ServiceAccount/web helm/common/templates/serviceaccount.yaml',
      'ConfigMap/shop-web helm/web/templates/configmap.yaml',
      'Service/shop-web helm/web/templates/service.yaml',
      'Deployment/shop-web helm/web/templates/deployment.yaml',
    ],
  );
  assert.ok(plain.files.includes('helm/common/Chart.yaml'), 'the file:// dependency was read');
  assert.ok(!plain.files.some((f) => f.startsWith('kustomize/')));
  await assertGolden('helm-web', goldenText(plain));

  const base = request(FIXTURES, 'helm/web');
  const prod = await render({
    ...base,
    helm: {
      ...base.helm,
      releaseName: 'storefront',
      namespace: 'prod',
      valueFiles: ['helm/web/values-prod.yaml'],
      values: { image: { tag: '1.5.0' }, config: { greeting: 'inline wins' } },
      kubeVersion: '1.31.0',
    },
  });
  assert.ok(prod.files.includes('helm/web/values-prod.yaml'));
  const configMap = prod.manifests.find((m) => m.object.kind === 'ConfigMap')?.object as KubeObject & {
    data: Record<string, string>;
  };
  assert.equal(configMap.data.greeting, 'inline wins');
  await assertGolden('helm-web-prod', goldenText(prod));
});

test('the digest covers only the files a render read: other folders can change without a re-render', async (t) => {
  const root = await fixtureCopy(t);
  const renderer = new Renderer({ cacheSize: 8 });
  const first = await renderer.render(request(root, 'kustomize/overlays/dev'));
  assert.deepEqual(renderer.cacheStats, { hits: 0, misses: 1, size: 1 });

  // A file of another application, and a file in the overlay folder the build does not name.
  await appendFile(join(root, 'plain-app/service.yaml'), '# touched\n');
  await writeFile(join(root, 'kustomize/overlays/dev/NOTES.md'), 'not part of the build');
  const again = await renderer.render(request(root, 'kustomize/overlays/dev'));
  assert.equal(again.digest, first.digest);
  assert.equal(again, first, 'served from the cache');
  assert.deepEqual(renderer.cacheStats, { hits: 1, misses: 1, size: 1 });

  // A file the build read.
  await appendFile(join(root, 'kustomize/base/service.yaml'), '# touched\n');
  const changed = await renderer.render(request(root, 'kustomize/overlays/dev'));
  assert.notEqual(changed.digest, first.digest);
  assert.deepEqual(renderer.cacheStats, { hits: 1, misses: 2, size: 2 });

  // Options are part of the key too.
  const base = request(root, 'helm/web');
  const a = await renderer.render(base);
  const b = await renderer.render({ ...base, helm: { ...base.helm, releaseName: 'other' } });
  assert.notEqual(a.digest, b.digest);
  assert.equal(b.manifests.find((m) => m.object.kind === 'Deployment')?.object.metadata.name, 'other-web');
  await writeFile(join(root, 'helm/web/files/extra.txt'), 'a new chart file is read, so it counts');
  assert.notEqual((await renderer.render(base)).digest, a.digest);
});

test('the cache keeps cacheSize results, least recently used out; results are frozen', async (t) => {
  const root = await tempRepo(t, {
    'a/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n',
    'b/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n',
  });
  const renderer = new Renderer({ cacheSize: 1 });
  const a = await renderer.render(request(root, 'a'));
  await renderer.render(request(root, 'b'));
  await renderer.render(request(root, 'a'));
  assert.deepEqual(renderer.cacheStats, { hits: 0, misses: 3, size: 1 });
  await renderer.render(request(root, 'a'));
  assert.equal(renderer.cacheStats.hits, 1);
  assert.ok(Object.isFrozen(a.manifests[0]?.object.metadata));
  assert.throws(() => {
    (a.manifests[0]?.object.metadata as Record<string, unknown>).name = 'changed';
  }, TypeError);
});

/** A stand-in for kustomize or helm: a shell script (the environment it gets has an empty PATH). */
async function fakeTool(
  t: { after: (fn: () => Promise<void>) => void },
  script: (dir: string) => string,
): Promise<{ bin: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-fake-tool-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bin = join(dir, 'tool');
  await writeFile(bin, `#!/bin/sh\nif [ "$1" = version ]; then echo fake-1.0; exit 0; fi\n${script(dir)}\n`);
  await chmod(bin, 0o755);
  return { bin, dir };
}

test('a tool that runs past the time limit is killed, with its process group, and the error names the file', async (t) => {
  const { bin, dir } = await fakeTool(t, (dir) => `echo $$ > ${dir}/pid\nexec /bin/sleep 30`);
  const renderer = new Renderer({ kustomizeCommand: bin });
  const req = request(FIXTURES, 'kustomize/overlays/dev');
  const started = Date.now();
  await assertRenderFails(renderer.render({ ...req, limits: { ...req.limits, timeoutMs: 500 } }), {
    file: 'kustomize/overlays/dev/kustomization.yaml',
    reason: RenderErrorReason.Timeout,
    message: /kustomize build ran longer than 500 ms and was stopped/,
  });
  assert.ok(Date.now() - started < 10_000);
  const pid = Number(await readFile(join(dir, 'pid'), 'utf8'));
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the sleeping tool is gone');
});

test('a tool that writes more than the render may hold is stopped; a missing tool is a clear error', async (t) => {
  const { bin } = await fakeTool(t, () => 'exec /usr/bin/yes "apiVersion: v1"');
  const req = request(FIXTURES, 'helm/web');
  await assertRenderFails(
    new Renderer({ helmCommand: bin }).render({
      ...req,
      limits: { ...req.limits, maxTotalBytes: 1024 * 1024 },
    }),
    {
      file: 'helm/web/Chart.yaml',
      reason: RenderErrorReason.LimitExceeded,
      message: /helm template wrote more than/,
    },
  );
  await assertRenderFails(new Renderer({ helmCommand: '/nonexistent/helm' }).render(req), {
    file: 'helm/web/Chart.yaml',
    reason: RenderErrorReason.ToolFailed,
    message: /helm is not installed: \/nonexistent\/helm was not found/,
  });
});

test('tools run in a clean environment: none of Cairn’s variables (credentials, KUBECONFIG, proxies) reach them', async (t) => {
  const { bin, dir } = await fakeTool(
    t,
    (dir) => `/usr/bin/env > ${dir}/env\necho 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x'`,
  );
  process.env.CAIRN_TEST_SECRET_TOKEN = 'do-not-pass';
  t.after(() => {
    delete process.env.CAIRN_TEST_SECRET_TOKEN;
  });
  await new Renderer({ kustomizeCommand: bin }).render(request(FIXTURES, 'kustomize/overlays/dev'));
  const env = await readFile(join(dir, 'env'), 'utf8');
  assert.ok(!env.includes('CAIRN_TEST_SECRET_TOKEN'));
  assert.match(env, /^PATH=$/m, 'no git on PATH: kustomize cannot clone a remote base');
  assert.match(env, /^HTTPS_PROXY=http:\/\/127\.0\.0\.1:9$/m);
  assert.match(env, /^HOME=.*cairn-render-/m);
});

test('YAML policy: `enabled: yes` is the boolean kubectl would send; the API server refuses it in a ConfigMap and Cairn refuses it first', async (t) => {
  const root = await tempRepo(t, {
    'bare/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  enabled: yes\n',
    'quoted/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  enabled: "yes"\n',
  });
  await assertRenderFails(render(request(root, 'bare')), {
    file: 'bare/cm.yaml',
    reason: RenderErrorReason.InvalidObject,
    message: /document 1: ConfigMap: data\["enabled"\] is a boolean, not a string: quote the value/,
  });
  const { client } = await withCluster();
  const ns = await newNamespace(t, 'render-yaml');
  const asKubectlSendsIt = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'flags', namespace: ns },
    data: { enabled: true },
  };
  await assert.rejects(
    client.apply(asKubectlSendsIt, { dryRun: true }),
    (e: unknown) => e instanceof KubeApiError && /\.data\.enabled: expected string/.test(e.message),
  );
  const quoted = await render(request(root, 'quoted'));
  const object = quoted.manifests[0]?.object as KubeObject;
  const accepted = await client.apply<KubeObject & { data: Record<string, string> }>(
    { ...object, metadata: { ...object.metadata, namespace: ns } },
    { dryRun: true },
  );
  assert.deepEqual(accepted.data, { enabled: 'yes' });
});

/** A chart repository over HTTP on 127.0.0.1 holding one packaged chart. */
async function chartRepository(t: { after: (fn: () => Promise<void>) => void }, chartDir: string) {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-chart-repo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(dir, '.c'),
    HELM_CONFIG_HOME: join(dir, '.f'),
    HELM_DATA_HOME: join(dir, '.d'),
  };
  await mkdir(join(dir, 'repo'));
  await run('helm', ['package', chartDir, '--destination', join(dir, 'repo')], { env });
  const server = createServer((req, res) => {
    const file = join(dir, 'repo', (req.url ?? '/').replace(/^\/+/, '').replace(/\.\./g, ''));
    readFile(file).then(
      (body) => res.end(body),
      () => {
        res.statusCode = 404;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await run('helm', ['repo', 'index', join(dir, 'repo'), '--url', url], { env });
  return url;
}

test('a dependency from an allowed chart repository is fetched (and such a render is never cached); not allowed, it is an error', async (t) => {
  const url = await chartRepository(t, join(FIXTURES, 'helm/common'));
  const root = await tempRepo(t, {
    'app/Chart.yaml': `apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: common\n    version: 0.1.0\n    repository: ${url}\n`,
    'app/values.yaml': 'common:\n  serviceAccount: fetched\n',
    'app/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n',
  });
  await assertRenderFails(render(request(root, 'app')), {
    file: 'app/Chart.yaml',
    reason: RenderErrorReason.Dependency,
    message: new RegExp(
      `dependency "common" from ${url.replace(/[.]/g, '\\.')} is not vendored in charts/ and its repository is not allowed`,
    ),
  });
  const renderer = new Renderer({ cacheSize: 8 });
  const base = request(root, 'app');
  const allowed = { ...base, helm: { ...base.helm, allowRepositories: [url] } };
  const result = await renderer.render(allowed);
  assert.deepEqual(
    result.manifests.map((m) => `${m.object.kind}/${m.object.metadata.name} ${m.source.file}`),
    [
      'ServiceAccount/fetched app/charts/common/templates/serviceaccount.yaml',
      'ConfigMap/app app/templates/cm.yaml',
    ],
  );
  await renderer.render(allowed);
  assert.deepEqual(renderer.cacheStats, { hits: 0, misses: 0, size: 0 });
  assert.ok(!existsSync(join(root, 'app/charts')), 'the checkout is never written to');
});

test("a tool's own failure names the application's file and speaks of repository paths, never the private copy", async (t) => {
  const root = await tempRepo(t, {
    'kust/kustomization.yaml': 'resources:\n  - cm.yaml\n  - missing.yaml\n',
    'kust/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
    'chart/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 0.1.0\n',
    'chart/templates/cm.yaml':
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name | required "name is required" }}\n',
    'chart/values-bad.yaml': 'name: [unclosed\n',
  });
  const kust = await assertRenderFails(render(request(root, 'kust')), {
    file: 'kust/kustomization.yaml',
    reason: RenderErrorReason.ToolFailed,
    message: /kustomize build failed: .*'missing\.yaml'.*kust\/missing\.yaml: no such file or directory/,
  });
  assert.ok(!kust.message.includes(tmpdir()), kust.message);
  const base = request(root, 'chart');
  const helm = await assertRenderFails(
    render({ ...base, helm: { ...base.helm, valueFiles: ['chart/values-bad.yaml'] } }),
    {
      file: 'chart/Chart.yaml',
      reason: RenderErrorReason.ToolFailed,
      message: /helm template failed: .*chart\/values-bad\.yaml/,
    },
  );
  assert.ok(!helm.message.includes(tmpdir()), helm.message);
  await assertRenderFails(render(base), {
    file: 'chart/Chart.yaml',
    reason: RenderErrorReason.ToolFailed,
    message: /helm template failed: .*name is required/,
  });
});

test('a remote base, when the application allows it, is fetched with git; such a render is never cached', async (t) => {
  const remote = await gitRepoFrom(join(FIXTURES, 'kustomize'));
  const root = await tempRepo(t, {
    'app/kustomization.yaml': `namePrefix: remote-\nresources:\n  - git::${remote.httpUrl}//base?ref=${remote.commit}\n`,
  });
  await assertRenderFails(render(request(root, 'app')), {
    file: 'app/kustomization.yaml',
    reason: RenderErrorReason.RemoteNotAllowed,
    message: /is a remote base; remote bases are not allowed/,
  });
  const renderer = new Renderer({ cacheSize: 8 });
  const allowed = { ...request(root, 'app'), kustomize: { allowRemoteBases: true } };
  const result = await renderer.render(allowed);
  assert.deepEqual(
    result.manifests.map((m) => `${m.object.kind}/${m.object.metadata.name}`),
    ['Service/remote-api', 'Deployment/remote-api'],
  );
  assert.deepEqual(result.files, ['app/kustomization.yaml']);
  await renderer.render(allowed);
  assert.deepEqual(renderer.cacheStats, { hits: 0, misses: 0, size: 0 });
});

test('an explicit renderer wins over detection: plain on a kustomize folder reads the files and warns', async () => {
  const result = await render({ ...request(FIXTURES, 'kustomize/base'), renderer: 'plain' });
  assert.equal(result.renderer, 'plain');
  assert.deepEqual(
    result.manifests.map((m) => `${m.object.kind}/${m.object.metadata.name}`),
    ['Deployment/api', 'Service/api'],
  );
  assert.deepEqual(
    result.warnings.map((w) => w.message),
    ['kustomize/base/kustomization.yaml: a kustomization, ignored because the plain renderer was chosen'],
  );
});

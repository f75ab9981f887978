// The bad-input catalogue (notes/reliability.md section 5) against the render stage: each hostile
// repository must fail with a RenderError that names the file and the reason, and no content of the
// files involved (the CANARY planted in them) may appear in the message.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CANARY, assertRenderFails, request, tempRepo } from '../../test/render/helpers.ts';
import { RenderErrorReason } from './errors.ts';
import { render } from './renderer.ts';

const exec = promisify(execFile);

/** A valid manifest carrying the canary: what a successful escape would read. */
const SECRET = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\nstringData:\n  password: ${CANARY}\n`;
const cm = (name: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  token: ${CANARY}\n`;
const KUSTOMIZATION = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n';

test('B1 alias bomb: refused on the alias budget before it expands', async (t) => {
  const lines = [`a: &a ["${CANARY}","lol","lol","lol","lol","lol","lol","lol","lol"]`];
  const names = 'abcdefghi';
  for (let i = 1; i < names.length; i++) {
    lines.push(
      `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(',')}]`,
    );
  }
  const root = await tempRepo(t, {
    'app/bomb.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n${lines.map((l) => `  ${l}`).join('\n')}\n`,
  });
  await assertRenderFails(render(request(root, 'app')), {
    file: 'app/bomb.yaml',
    reason: RenderErrorReason.LimitExceeded,
    message: /document 1, line \d+: more than 100 alias expansions/,
  });
});

test('B2 oversize file: refused on its size before it is read or parsed', async (t) => {
  const root = await tempRepo(t, {
    'app/big.yaml': `${cm('big')}  filler: "${CANARY}${'x'.repeat(200_000)}"\n`,
    'app/ok.yaml': cm('ok'),
  });
  const req = request(root, 'app');
  await assertRenderFails(render({ ...req, limits: { ...req.limits, maxFileBytes: 100_000 } }), {
    file: 'app/big.yaml',
    reason: RenderErrorReason.LimitExceeded,
    message: /\d+ bytes is over the limit of 100000 bytes per file/,
  });
});

test('B2 many files: the render stops at its total byte budget, naming the file that crossed it', async (t) => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 20; i++)
    files[`app/cm-${String(i).padStart(2, '0')}.yaml`] = `${cm(`c${i}`)}# ${'p'.repeat(1000)}\n`;
  const root = await tempRepo(t, files);
  const req = request(root, 'app');
  const e = await assertRenderFails(render({ ...req, limits: { ...req.limits, maxTotalBytes: 10_000 } }), {
    file: 'app/cm-09.yaml',
    reason: RenderErrorReason.LimitExceeded,
    message: /the render reads more than 10000 bytes in all/,
  });
  assert.ok(e);
  await assertRenderFails(render({ ...req, limits: { ...req.limits, maxFiles: 5 } }), {
    file: 'app/cm-05.yaml',
    reason: RenderErrorReason.LimitExceeded,
    message: /more than 5 files and folders/,
  });
});

test('B4 deep nesting: 10 000 levels of JSON refused on the depth limit, without a stack overflow', async (t) => {
  const deep = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":${'['.repeat(10_000)}"${CANARY}"${']'.repeat(10_000)}}`;
  const root = await tempRepo(t, { 'app/deep.json': deep });
  await assertRenderFails(render(request(root, 'app')), {
    file: 'app/deep.json',
    reason: RenderErrorReason.LimitExceeded,
    message: /document 1, line 1: nested deeper than 128 levels/,
  });
});

test('B5 invalid UTF-8, NUL bytes and UTF-16 are refused with an offset; a UTF-8 BOM is fine', async (t) => {
  const text = Buffer.from(cm('enc'));
  const root = await tempRepo(t, {
    'bom/cm.yaml': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]),
    'latin1/cm.yaml': Buffer.concat([
      text,
      Buffer.from('  note: caf'),
      Buffer.from([0xe9]),
      Buffer.from('\n'),
    ]),
    'nul/cm.yaml': Buffer.concat([text, Buffer.from([0x00]), Buffer.from(CANARY)]),
    'utf16/cm.yaml': Buffer.from(`\ufeff${cm('enc')}`, 'utf16le'),
  });
  assert.equal((await render(request(root, 'bom'))).manifests.length, 1);
  await assertRenderFails(render(request(root, 'latin1')), {
    file: 'latin1/cm.yaml',
    reason: RenderErrorReason.Encoding,
    message: new RegExp(`invalid UTF-8 at byte offset ${text.length + 11}$`),
  });
  await assertRenderFails(render(request(root, 'nul')), {
    file: 'nul/cm.yaml',
    reason: RenderErrorReason.Encoding,
    message: new RegExp(`a NUL byte at offset ${text.length}`),
  });
  await assertRenderFails(render(request(root, 'utf16')), {
    file: 'utf16/cm.yaml',
    reason: RenderErrorReason.Encoding,
    message: /UTF-16 text; Cairn reads UTF-8 only/,
  });
});

test('B6 one malformed file among many: the whole render fails, naming that file and line', async (t) => {
  const files: Record<string, string> = {};
  for (const name of ['a', 'b', 'd', 'e']) files[`app/${name}.yaml`] = cm(name);
  files['app/c.yaml'] =
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  key: ${CANARY}\n bad: indentation\n`;
  const root = await tempRepo(t, files);
  await assertRenderFails(render(request(root, 'app')), {
    file: 'app/c.yaml',
    reason: RenderErrorReason.Syntax,
    message: /^app\/c\.yaml: document 1, line \d+: .+ \([A-Z_]+\)$/,
  });
});

test('B7 nothing to render: empty documents, no manifest files, or an empty build is an error, never an empty result', async (t) => {
  const root = await tempRepo(t, {
    'blank/only-markers.yaml': '---\n# nothing here\n---\n',
    'blank/empty.yml': '',
    'docs/README.md': `# ${CANARY}`,
    'kust/kustomization.yaml': `${KUSTOMIZATION}resources: []\n`,
  });
  await assertRenderFails(render(request(root, 'blank')), {
    file: 'blank',
    reason: RenderErrorReason.Empty,
    message: /no Kubernetes object in the 2 YAML\/JSON files of this folder/,
  });
  await assertRenderFails(render(request(root, 'docs')), {
    file: 'docs',
    reason: RenderErrorReason.Empty,
    message: /no \*\.yaml, \*\.yml or \*\.json file in this folder/,
  });
  await assertRenderFails(render(request(root, 'kust')), {
    file: 'kust/kustomization.yaml',
    reason: RenderErrorReason.Empty,
    message: /kustomize build produced no Kubernetes object/,
  });
});

test('B8 duplicate keys are refused, naming the key and the line', async (t) => {
  const root = await tempRepo(t, {
    'app/deploy.yaml': `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${CANARY}:1\n          image: evil:2\n`,
  });
  await assertRenderFails(render(request(root, 'app')), {
    file: 'app/deploy.yaml',
    reason: RenderErrorReason.Syntax,
    message: /document 1, line 11: duplicate key "image"/,
  });
});

test('B9 unsafe and custom tags are refused (the core schema only)', async (t) => {
  const root = await tempRepo(t, {
    'js/cm.yaml': `${cm('js')}  run: !!js/function "function () { return '${CANARY}' }"\n`,
    'py/cm.yaml': `${cm('py')}  obj: !!python/object:os.system ["${CANARY}"]\n`,
    'verbatim/cm.yaml': `${cm('v')}  x: !<tag:example.com,2000:app/${CANARY}> y\n`,
  });
  for (const folder of ['js', 'py', 'verbatim']) {
    await assertRenderFails(render(request(root, folder)), {
      file: `${folder}/cm.yaml`,
      reason: RenderErrorReason.Syntax,
      message:
        /document 1, line 7: (the tag !!js\/function|the tag !!python\/object:os\.system|a custom tag) is not allowed \(only !!str, !!map and !!seq are\)/,
    });
  }
});

test('B10 __proto__ keys in a manifest or a kustomization are refused and leave Object.prototype alone', async (t) => {
  const root = await tempRepo(t, {
    'app/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  __proto__:\n    polluted: ${CANARY}\n`,
    'merge/cm.yaml': `base: &b\n  __proto__: {polluted: yes}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  <<: *b\n  name: x\n`,
    'kust/kustomization.yaml': `${KUSTOMIZATION}__proto__:\n  resources: [${CANARY}]\nresources: [cm.yaml]\n`,
    'kust/cm.yaml': cm('k'),
  });
  await assertRenderFails(render(request(root, 'app')), {
    file: 'app/cm.yaml',
    reason: RenderErrorReason.Syntax,
    message: /document 1, line 5: the key "__proto__" is not allowed/,
  });
  await assertRenderFails(render(request(root, 'merge')), {
    file: 'merge/cm.yaml',
    reason: RenderErrorReason.Syntax,
    message: /__proto__/,
  });
  await assertRenderFails(render(request(root, 'kust')), {
    file: 'kust/kustomization.yaml',
    reason: RenderErrorReason.Syntax,
    message: /the key "__proto__" is not allowed/,
  });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
});

test('B12 missing apiVersion, kind or metadata.name: the file, the document and what is missing', async (t) => {
  const root = await tempRepo(t, {
    'kind/all.yaml': `${cm('ok')}---\napiVersion: v1\nmetadata:\n  name: nokind\ndata:\n  k: ${CANARY}\n`,
    'name/all.yaml': `apiVersion: v1\nkind: List\nitems:\n  - ${cm('ok').split('\n').join('\n    ')}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {labels: {a: b}}\n`,
    'api/cm.yaml': 'kind: ConfigMap\nmetadata:\n  name: x\n',
  });
  await assertRenderFails(render(request(root, 'kind')), {
    file: 'kind/all.yaml',
    reason: RenderErrorReason.InvalidObject,
    message: /^kind\/all\.yaml: document 2: kind is missing$/,
  });
  await assertRenderFails(render(request(root, 'name')), {
    file: 'name/all.yaml',
    reason: RenderErrorReason.InvalidObject,
    message: /^name\/all\.yaml: document 1, item 2: ConfigMap: metadata\.name is missing$/,
  });
  await assertRenderFails(render(request(root, 'api')), {
    file: 'api/cm.yaml',
    reason: RenderErrorReason.InvalidObject,
    message: /document 1: ConfigMap: apiVersion is missing/,
  });
});

test('B13 invalid names are refused before any API call', async (t) => {
  const named = (name: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: ${CANARY}\n`;
  const root = await tempRepo(t, {
    'slash/cm.yaml': named('../x'),
    'dots/cm.yaml': named('".."'),
    'newline/cm.yaml': named('"a\\nb"'),
    'long/cm.yaml': named('x'.repeat(254)),
    'ns/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  namespace: Kube_System\n`,
  });
  const cases: Array<[string, RegExp]> = [
    ['slash', /metadata\.name may not contain "\/"/],
    ['dots', /metadata\.name may not be "\." or "\.\."/],
    ['newline', /metadata\.name may not contain control characters or line breaks/],
    ['long', /metadata\.name is longer than 253 characters/],
    ['ns', /metadata\.namespace "Kube_System" is not a DNS label/],
  ];
  for (const [folder, message] of cases) {
    await assertRenderFails(render(request(root, folder)), {
      file: `${folder}/cm.yaml`,
      reason: RenderErrorReason.InvalidObject,
      message,
    });
  }
});

test('B14 the same object twice: an error naming both files', async (t) => {
  const root = await tempRepo(t, {
    'app/a.yaml': cm('settings'),
    'app/nested/b.yaml': `${cm('other')}---\n${cm('settings')}`,
  });
  await assertRenderFails(render(request(root, 'app')), {
    file: 'app/nested/b.yaml',
    reason: RenderErrorReason.DuplicateObject,
    message:
      /^app\/nested\/b\.yaml: document 2: ConfigMap\/settings is also defined in app\/a\.yaml \(document 1\)$/,
  });
});

test('B19 absolute symlinks are refused wherever the repository has them', async (t) => {
  const root = await tempRepo(t, {
    'plain/secrets.yaml': { symlink: '/etc/passwd' },
    'plain/ok.yaml': cm('ok'),
    'hidden/notes.txt': { symlink: '/var/run/secrets/kubernetes.io/serviceaccount/token' },
    'hidden/ok.yaml': cm('ok'),
    'kust/kustomization.yaml': `${KUSTOMIZATION}resources: [cm.yaml]\n`,
    'kust/cm.yaml': { symlink: '/etc/hostname' },
    'chart/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 0.1.0\n',
    'chart/templates/cm.yaml': { symlink: '/etc/passwd' },
  });
  await assertRenderFails(render(request(root, 'plain')), {
    file: 'plain/secrets.yaml',
    reason: RenderErrorReason.BadSymlink,
    message:
      /symlink to the absolute path "\/etc\/passwd": only relative symlinks inside the repository are allowed/,
  });
  // Whatever its name: a plain folder does not read .txt files, but it does not keep a link out either.
  await assertRenderFails(render(request(root, 'hidden')), {
    file: 'hidden/notes.txt',
    reason: RenderErrorReason.BadSymlink,
    message: /absolute path/,
  });
  await assertRenderFails(render(request(root, 'kust')), {
    file: 'kust/cm.yaml',
    reason: RenderErrorReason.BadSymlink,
    message: /absolute path "\/etc\/hostname"/,
  });
  await assertRenderFails(render(request(root, 'chart')), {
    file: 'chart/templates/cm.yaml',
    reason: RenderErrorReason.BadSymlink,
    message: /absolute path/,
  });
});

test('B20 escaping, chained and dangling relative symlinks; symlink loops', async (t) => {
  const root = await tempRepo(t, {
    '../outside/secret.yaml': SECRET,
    'escape/stolen.yaml': { symlink: '../../outside/secret.yaml' },
    'chain/a.yaml': { symlink: 'b.yaml' },
    'chain/b.yaml': { symlink: '../chain/../../outside/secret.yaml' },
    'chain/ok.yaml': cm('ok'),
    'dangling/gone.yaml': { symlink: 'removed.yaml' },
    'loop/ok.yaml': cm('ok'),
    'loop/again': { symlink: '.' },
    'inside/link.yaml': { symlink: '../shared/cm.yaml' },
    'shared/cm.yaml': cm('shared'),
  });
  await assertRenderFails(render(request(root, 'escape')), {
    file: 'escape/stolen.yaml',
    reason: RenderErrorReason.OutsideRepository,
    message: /symlink to "\.\.\/\.\.\/outside\/secret\.yaml" points outside the repository/,
  });
  await assertRenderFails(render(request(root, 'chain')), {
    file: 'chain/b.yaml',
    reason: RenderErrorReason.OutsideRepository,
    message: /outside the repository/,
  });
  await assertRenderFails(render(request(root, 'dangling')), {
    file: 'dangling/gone.yaml',
    reason: RenderErrorReason.BadSymlink,
    message: /dangling symlink: its target "removed\.yaml" does not exist/,
  });
  await assertRenderFails(render(request(root, 'loop')), {
    file: 'loop/again',
    reason: RenderErrorReason.BadSymlink,
    message: /symlink loop/,
  });
  // A symlink that stays inside the repository is followed.
  const inside = await render(request(root, 'inside'));
  assert.deepEqual(inside.files, ['inside/link.yaml']);
  assert.equal(inside.manifests[0]?.object.metadata.name, 'shared');
});

test('B22 kustomize resources outside the repository (../.., absolute, a folder of another checkout) are refused', async (t) => {
  const root = await tempRepo(t, {
    '../other-tenant/kustomization.yaml': `${KUSTOMIZATION}resources: [secret.yaml]\n`,
    '../other-tenant/secret.yaml': SECRET,
    'up/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - ../../other-tenant\n`,
    'abs/kustomization.yaml': `${KUSTOMIZATION}resources:\n  - /etc/passwd\n`,
    // Going up inside the repository is fine (argocd-example-apps' pre-post-sync does it).
    'base/kustomization.yaml': `${KUSTOMIZATION}resources: [cm.yaml]\n`,
    'base/cm.yaml': cm('base'),
    'overlay/kustomization.yaml': `${KUSTOMIZATION}namePrefix: o-\nresources: [../base]\n`,
  });
  await assertRenderFails(render(request(root, 'up')), {
    file: 'up/kustomization.yaml',
    reason: RenderErrorReason.OutsideRepository,
    message: /resources "\.\.\/\.\.\/other-tenant" points outside the repository/,
  });
  await assertRenderFails(render(request(root, 'abs')), {
    file: 'abs/kustomization.yaml',
    reason: RenderErrorReason.OutsideRepository,
    message: /resources "\/etc\/passwd" is an absolute path/,
  });
  assert.equal((await render(request(root, 'overlay'))).manifests[0]?.object.metadata.name, 'o-base');
});

test('B23 every kustomize field that reads a file is guarded, not just resources', async (t) => {
  const fields: Array<[string, string]> = [
    ['patches', 'patches:\n  - path: ../../outside/secret.yaml\n'],
    ['patches-string', 'patches:\n  - ../../outside/secret.yaml\n'],
    ['smp', 'patchesStrategicMerge:\n  - ../../outside/secret.yaml\n'],
    [
      'json6902',
      'patchesJson6902:\n  - path: ../../outside/secret.yaml\n    target: {kind: ConfigMap, name: x}\n',
    ],
    ['cm-files', 'configMapGenerator:\n  - name: x\n    files:\n      - passwd=../../outside/secret.yaml\n'],
    ['secret-envs', 'secretGenerator:\n  - name: x\n    envs: [/etc/environment]\n'],
    ['helm-values', 'helmCharts:\n  - name: c\n    valuesFile: ../../outside/secret.yaml\n'],
    ['openapi', 'openapi:\n  path: ../../outside/secret.yaml\n'],
    ['components', 'components:\n  - ../../outside\n'],
    ['crds', 'crds:\n  - ../../outside/secret.yaml\n'],
    ['replacements', 'replacements:\n  - path: ../../outside/secret.yaml\n'],
  ];
  const entries: Record<string, string> = {
    '../outside/secret.yaml': SECRET,
    'transformer/cm.yaml': cm('t'),
  };
  for (const [name, body] of fields) entries[`${name}/kustomization.yaml`] = `${KUSTOMIZATION}${body}`;
  // A builtin transformer configuration names a file of its own.
  entries['transformer/kustomization.yaml'] =
    `${KUSTOMIZATION}resources: [cm.yaml]\ntransformers: [patch.yaml]\n`;
  entries['transformer/patch.yaml'] =
    'apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: ../../outside/secret.yaml\n';
  const root = await tempRepo(t, entries);
  for (const [name] of fields) {
    await assertRenderFails(render(request(root, name)), {
      file: `${name}/kustomization.yaml`,
      reason: RenderErrorReason.OutsideRepository,
      message: /(points outside the repository|is an absolute path)/,
    });
  }
  await assertRenderFails(render(request(root, 'transformer')), {
    file: 'transformer/patch.yaml',
    reason: RenderErrorReason.OutsideRepository,
    message: /path "\.\.\/\.\.\/outside\/secret\.yaml" points outside the repository/,
  });
});

test('B24 remote bases are refused unless the application allows them', async (t) => {
  const remotes = [
    'github.com/example/repo//base?ref=main',
    'https://github.com/example/repo/base',
    'git::https://git.example/repo.git//base',
    'https://raw.example/manifests/app.yaml',
  ];
  const entries: Record<string, string> = {};
  remotes.forEach((r, i) => (entries[`r${i}/kustomization.yaml`] = `${KUSTOMIZATION}resources:\n  - ${r}\n`));
  const root = await tempRepo(t, entries);
  for (const [i, remote] of remotes.entries()) {
    const e = await assertRenderFails(render(request(root, `r${i}`)), {
      file: `r${i}/kustomization.yaml`,
      reason: RenderErrorReason.RemoteNotAllowed,
      message: /resources ".+" is a remote base; remote bases are not allowed for this application/,
    });
    assert.ok(e.message.includes(remote));
  }
});

test('B25 kustomizations that include each other, or themselves, are a cycle error', async (t) => {
  const root = await tempRepo(t, {
    'a/kustomization.yaml': `${KUSTOMIZATION}resources: [../b]\n`,
    'b/kustomization.yaml': `${KUSTOMIZATION}resources: [../a, cm.yaml]\n`,
    'b/cm.yaml': cm('b'),
    'self/kustomization.yaml': `${KUSTOMIZATION}resources: [.]\n`,
  });
  await assertRenderFails(render(request(root, 'a')), {
    file: 'b/kustomization.yaml',
    reason: RenderErrorReason.Cycle,
    message:
      /kustomizations include each other: a\/kustomization\.yaml -> b\/kustomization\.yaml -> a\/kustomization\.yaml/,
  });
  await assertRenderFails(render(request(root, 'self')), {
    file: 'self/kustomization.yaml',
    reason: RenderErrorReason.Cycle,
    message: /self\/kustomization\.yaml -> self\/kustomization\.yaml/,
  });
});

test('B26 Helm values files outside the repository, absolute, or given as URLs and plugin schemes are refused', async (t) => {
  const root = await tempRepo(t, {
    '../team-b/secrets.yaml': `password: ${CANARY}\n`,
    'chart/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 0.1.0\n',
    'chart/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
    'linked/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 0.1.0\n',
    'linked/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
    'linked/values-link.yaml': { symlink: '../../team-b/secrets.yaml' },
  });
  const cases: Array<[string, RenderErrorReason, RegExp]> = [
    [
      '../team-b/secrets.yaml',
      RenderErrorReason.OutsideRepository,
      /values file "\.\.\/team-b\/secrets\.yaml" points outside the repository/,
    ],
    ['/etc/passwd', RenderErrorReason.OutsideRepository, /is an absolute path/],
    [
      'file:///etc/passwd',
      RenderErrorReason.OutsideRepository,
      /URLs and helm plugin schemes are not allowed/,
    ],
    [
      'secrets+gpg-import://key?../../team-b/secrets.yaml',
      RenderErrorReason.OutsideRepository,
      /URLs and helm plugin schemes/,
    ],
    [
      'chart/missing.yaml',
      RenderErrorReason.NotFound,
      /values file "chart\/missing\.yaml" does not exist in the repository/,
    ],
  ];
  const base = request(root, 'chart');
  for (const [valueFile, reason, message] of cases) {
    await assertRenderFails(render({ ...base, helm: { ...base.helm, valueFiles: [valueFile] } }), {
      file: 'chart/Chart.yaml',
      reason,
      message,
    });
  }
  // Through a symlink in the chart folder: refused while reading the chart, naming the symlink.
  await assertRenderFails(render(request(root, 'linked')), {
    file: 'linked/values-link.yaml',
    reason: RenderErrorReason.OutsideRepository,
    message: /symlink to "\.\.\/\.\.\/team-b\/secrets\.yaml" points outside the repository/,
  });
});

test('B28 chart paths and file:// dependencies outside the repository; the application path itself', async (t) => {
  const root = await tempRepo(t, {
    '../evil-chart/Chart.yaml': 'apiVersion: v2\nname: evil\nversion: 0.1.0\n',
    '../evil-chart/templates/s.yaml': SECRET,
    'dep/Chart.yaml':
      'apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: evil\n    version: 0.1.0\n    repository: file://../../evil-chart\n',
    'dep/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
    'remote/Chart.yaml':
      'apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: wordpress\n    version: 9.0.3\n    repository: https://charts.example/stable\n',
    'remote/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
    linked: { symlink: '../evil-chart' },
  });
  await assertRenderFails(render(request(root, 'dep')), {
    file: 'dep/Chart.yaml',
    reason: RenderErrorReason.OutsideRepository,
    message:
      /dependency "evil" \(repository file:\/\/\.\.\/\.\.\/evil-chart\) ".+" points outside the repository/,
  });
  await assertRenderFails(render(request(root, 'remote')), {
    file: 'remote/Chart.yaml',
    reason: RenderErrorReason.Dependency,
    message:
      /dependency "wordpress" from https:\/\/charts\.example\/stable is not vendored in charts\/ and its repository is not allowed/,
  });
  await assertRenderFails(render(request(root, '../evil-chart')), {
    file: '../evil-chart',
    reason: RenderErrorReason.OutsideRepository,
    message: /the application path "\.\.\/evil-chart" points outside the repository/,
  });
  await assertRenderFails(render(request(root, 'linked')), {
    file: 'linked',
    reason: RenderErrorReason.OutsideRepository,
    message: /outside the repository/,
  });
});

test('B32 odd file names: escaped in messages, near-miss markers and marker folders are errors, long names work', async (t) => {
  const odd = 'bad\n\u001b[31mname\u202e.yaml';
  const long = `${'l'.repeat(250)}.yaml`;
  const root = await tempRepo(t, {
    [`odd/${odd}`]: `a: [${CANARY}\n`,
    'near/Kustomization.yaml': `${KUSTOMIZATION}resources: [cm.yaml]\n`,
    'near/cm.yaml': cm('near'),
    'folder/kustomization.yaml/cm.yaml': cm('in-a-folder'),
    [`long/${long}`]: cm('long'),
  });
  const e = await assertRenderFails(render(request(root, 'odd')), {
    file: `odd/${odd}`,
    reason: RenderErrorReason.Syntax,
    message: /.*/,
  });
  assert.ok(
    e.message.startsWith('"odd/bad\\n\\u001b[31mname\\u202e.yaml": '),
    `the name is quoted and escaped: ${e.message}`,
  );
  for (const raw of ['\n', '\u001b', '\u202e'])
    assert.ok(!e.message.includes(raw), 'control characters are escaped');
  await assertRenderFails(render(request(root, 'near')), {
    file: 'near/Kustomization.yaml',
    reason: RenderErrorReason.Unsupported,
    message:
      /kustomize only reads kustomization\.yaml, kustomization\.yml or Kustomization: rename this file/,
  });
  await assertRenderFails(render(request(root, 'folder')), {
    file: 'folder/kustomization.yaml',
    reason: RenderErrorReason.Unsupported,
    message: /a folder where a file was expected/,
  });
  assert.deepEqual((await render(request(root, 'long'))).files, [`long/${long}`]);
});

test('a FIFO named like a manifest is refused, not read (a read would block forever)', async (t) => {
  const root = await tempRepo(t, { 'app/ok.yaml': cm('ok') });
  await exec('mkfifo', [`${root}/app/pipe.yaml`]);
  await assertRenderFails(render(request(root, 'app')), {
    file: 'app/pipe.yaml',
    reason: RenderErrorReason.Unsupported,
    message: /not a regular file/,
  });
});

test('formats Cairn does not render fail naming the file: Jsonnet, plugins, Argo CD overrides, nested charts', async (t) => {
  const root = await tempRepo(t, {
    'jsonnet/app.jsonnet': `{ password: "${CANARY}" }`,
    'jsonnet/ok.yaml': cm('ok'),
    'cmp/plugin.yaml': 'apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\n',
    'cmpobj/cmp.yaml':
      'apiVersion: argoproj.io/v1alpha1\nkind: ConfigManagementPlugin\nmetadata:\n  name: p\n',
    'override/.argocd-source-shop.yaml': 'helm:\n  parameters: []\n',
    'override/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 0.1.0\n',
    'nested/ok.yaml': cm('ok'),
    'nested/sub/kustomization.yaml': `${KUSTOMIZATION}resources: []\n`,
  });
  const cases: Array<[string, string, RenderErrorReason, RegExp]> = [
    ['jsonnet', 'jsonnet/app.jsonnet', RenderErrorReason.Unsupported, /Jsonnet, which Cairn does not render/],
    [
      'cmp',
      'cmp/plugin.yaml',
      RenderErrorReason.Unsupported,
      /Argo CD config management plugin configuration/,
    ],
    ['cmpobj', 'cmpobj/cmp.yaml', RenderErrorReason.Unsupported, /Cairn does not run plugins/],
    [
      'override',
      'override/.argocd-source-shop.yaml',
      RenderErrorReason.Unsupported,
      /Argo CD parameter overrides/,
    ],
    [
      'nested',
      'nested/sub/kustomization.yaml',
      RenderErrorReason.Unsupported,
      /a kustomization inside a plain folder/,
    ],
  ];
  for (const [folder, file, reason, message] of cases) {
    await assertRenderFails(render(request(root, folder)), { file, reason, message });
  }
});

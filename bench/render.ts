// Render throughput: a plain folder of 1,000 objects, a Kustomize overlay and a Helm chart,
// uncached and from the cache, beside the raw kustomize and helm CLIs on the same input.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Renderer } from '../src/render/renderer.ts';
import { defaultRenderOptions, type RenderRequest } from '../src/render/types.ts';
import { ensureTools } from '../test/harness/tools.ts';
import { throughput, type Measurement, type Scenario } from './harness.ts';

const run = promisify(execFile);

/** A repository with the three kinds of application, written for this benchmark. */
export async function writeRepo(root: string): Promise<void> {
  // Plain: 1,000 ConfigMaps in 100 files of 10 documents.
  await mkdir(join(root, 'plain'), { recursive: true });
  for (let f = 0; f < 100; f++) {
    const docs = Array.from({ length: 10 }, (_, d) => {
      const i = f * 10 + d;
      return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-${i}\n  labels:\n    app: bench\ndata:\n  index: "${i}"\n  greeting: hello\n  mode: production\n`;
    });
    await writeFile(join(root, 'plain', `settings-${f}.yaml`), docs.join('---\n'));
  }
  // Kustomize: a base of 40 objects and an overlay with a prefix, labels and a patch.
  await mkdir(join(root, 'kustomize', 'base'), { recursive: true });
  await mkdir(join(root, 'kustomize', 'overlays', 'production'), { recursive: true });
  const baseFiles: string[] = [];
  for (let i = 0; i < 20; i++) {
    baseFiles.push(`app-${i}.yaml`);
    await writeFile(
      join(root, 'kustomize', 'base', `app-${i}.yaml`),
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${i}\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: app-${i}\n  template:\n    metadata:\n      labels:\n        app: app-${i}\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.27\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-${i}\nspec:\n  selector:\n    app: app-${i}\n  ports:\n    - port: 80\n`,
    );
  }
  await writeFile(
    join(root, 'kustomize', 'base', 'kustomization.yaml'),
    `resources:\n${baseFiles.map((f) => `  - ${f}`).join('\n')}\n`,
  );
  await writeFile(
    join(root, 'kustomize', 'overlays', 'production', 'kustomization.yaml'),
    'resources:\n  - ../../base\nnamePrefix: prod-\nlabels:\n  - pairs:\n      env: production\npatches:\n  - target:\n      kind: Deployment\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: 3\n',
  );
  // Helm: a chart whose templates make 100 objects from values.
  await mkdir(join(root, 'helm', 'templates'), { recursive: true });
  await writeFile(join(root, 'helm', 'Chart.yaml'), 'apiVersion: v2\nname: bench\nversion: 1.0.0\n');
  await writeFile(join(root, 'helm', 'values.yaml'), 'count: 50\nimage: nginx:1.27\nreplicas: 2\n');
  await writeFile(
    join(root, 'helm', 'templates', 'apps.yaml'),
    '{{- range $i := until (int .Values.count) }}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ $.Release.Name }}-{{ $i }}\n  labels:\n    app.kubernetes.io/instance: {{ $.Release.Name }}\nspec:\n  replicas: {{ $.Values.replicas }}\n  selector:\n    matchLabels:\n      app: {{ $.Release.Name }}-{{ $i }}\n  template:\n    metadata:\n      labels:\n        app: {{ $.Release.Name }}-{{ $i }}\n    spec:\n      containers:\n        - name: app\n          image: {{ $.Values.image }}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {{ $.Release.Name }}-{{ $i }}\nspec:\n  selector:\n    app: {{ $.Release.Name }}-{{ $i }}\n  ports:\n    - port: 80\n{{- end }}\n',
  );
}

export const renderScenario: Scenario = {
  name: 'render',
  summary:
    'renders per second: plain (1,000 objects), Kustomize overlay (40), Helm chart (100); cache hits; raw CLIs',
  async run({ quick, log }) {
    const tools = await ensureTools(['kustomize', 'helm'], log);
    const kustomize = join(tools.kustomize, 'kustomize');
    const helm = join(tools.helm, 'helm');
    const root = await mkdtemp(join(tmpdir(), 'cairn-bench-render-'));
    const budget = { minMs: quick ? 1500 : 5000, minRuns: 3, warmup: 1 };
    const out: Measurement[] = [];
    try {
      await writeRepo(root);
      const defaults = defaultRenderOptions();
      const request = (path: string): RenderRequest => ({
        ...defaults,
        root,
        path,
        helm: { ...defaults.helm, releaseName: 'bench', namespace: 'bench' },
      });
      const uncached = new Renderer({ cacheSize: 0, kustomizeCommand: kustomize, helmCommand: helm });
      const cached = new Renderer({ cacheSize: 16, kustomizeCommand: kustomize, helmCommand: helm });
      const cases: { name: string; path: string; raw?: () => Promise<unknown> }[] = [
        { name: 'plain 1,000 objects', path: 'plain' },
        {
          name: 'kustomize overlay',
          path: 'kustomize/overlays/production',
          raw: () => run(kustomize, ['build', join(root, 'kustomize/overlays/production')]),
        },
        {
          name: 'helm chart',
          path: 'helm',
          raw: () =>
            run(helm, ['template', 'bench', join(root, 'helm'), '--namespace', 'bench'], {
              maxBuffer: 64 << 20,
            }),
        },
      ];
      for (const c of cases) {
        const objects = (await uncached.render(request(c.path))).manifests.length;
        const fresh = await throughput(() => uncached.render(request(c.path)), budget);
        log(`${c.name}: ${fresh.perSecond.toFixed(1)} renders/s (${objects} objects)`);
        out.push({
          scenario: 'render',
          name: `${c.name}, uncached`,
          value: fresh.perSecond,
          unit: 'renders/s',
          note: `${objects} objects, ${(fresh.perSecond * objects).toFixed(0)} objects/s`,
        });
        await cached.render(request(c.path));
        const hit = await throughput(() => cached.render(request(c.path)), budget);
        out.push({
          scenario: 'render',
          name: `${c.name}, cache hit`,
          value: hit.perSecond,
          unit: 'renders/s',
          note: 'digest of the files read, then the cached result',
        });
        if (c.raw) {
          const raw = await throughput(c.raw, budget);
          out.push({
            scenario: 'render',
            name: `${c.name}, raw CLI`,
            value: raw.perSecond,
            unit: 'renders/s',
            note: `Cairn uncached at ${((fresh.perSecond / raw.perSecond) * 100).toFixed(0)}% of the raw CLI`,
          });
        }
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
    return out;
  },
};

import type { Command } from '../command.ts';
import { formatObjects, parseOutputFormat } from '../output.ts';
import { SOURCE_OPTIONS, defaultAppName, loadSource, renderSource } from '../source.ts';

export const render: Command = {
  name: 'render',
  summary: 'print the Kubernetes objects a folder or a Git revision renders to',
  usage: 'cairn render PATH | --repo URL --revision REF --path P  [options]',
  description:
    'Renders plain YAML, a Kustomize overlay or a Helm chart exactly as the controller would, without a cluster.\n' +
    'The renderer is chosen from the files present (kustomization.yaml, else Chart.yaml, else plain) unless --renderer says.',
  examples: [
    'cairn render examples/guestbook',
    'cairn render charts/shop --helm-values values-production.yaml --release-name shop -n shop',
    'cairn render --repo https://git.example.com/platform.git --revision v1.4.2 --path apps/shop -o json',
  ],
  options: {
    ...SOURCE_OPTIONS,
    namespace: { type: 'string', short: 'n' },
    output: { type: 'string', short: 'o' },
  },
  async run({ values, positionals }, io) {
    const format = parseOutputFormat(values.output as string | undefined, 'yaml');
    const source = await loadSource(values, positionals, io);
    const result = await renderSource(source, values, {
      releaseName: defaultAppName(source),
      namespace: (values.namespace as string | undefined) ?? 'default',
    });
    for (const w of result.warnings) io.err.write(`warning: ${w.file}: ${w.message}\n`);
    io.out.write(
      formatObjects(
        result.manifests.map((m) => m.object),
        format,
      ),
    );
    return 0;
  },
};

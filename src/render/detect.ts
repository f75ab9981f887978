// Which renderer a folder needs, from the names of the files in it. Pure.
import { RenderError, RenderErrorReason } from './errors.ts';
import type { RendererChoice, RendererName } from './types.ts';

/** The names kustomize looks for, in its order. */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;
export const CHART_FILE = 'Chart.yaml';

export interface FolderEntry {
  name: string;
  kind: 'file' | 'dir' | 'other';
}

export interface Detection {
  renderer: RendererName;
  /** Repository-relative file that decided it (the kustomization, Chart.yaml) or the folder itself. */
  file: string;
}

/** Formats Cairn does not render; a folder holding one is an error, never a silently partial render. */
const UNSUPPORTED: ReadonlyArray<{ test: (name: string) => boolean; what: string }> = [
  { test: (n) => /\.(jsonnet|libsonnet)$/i.test(n), what: 'Jsonnet, which Cairn does not render' },
  { test: (n) => n === 'jsonnetfile.json', what: 'a jsonnet-bundler file; Cairn does not render Jsonnet' },
  {
    test: (n) => n === 'Kasanefile',
    what: 'a Kasane package (an Argo CD plugin); Cairn does not run plugins',
  },
  {
    test: (n) => /^(flake|default)\.nix$/.test(n),
    what: 'a Nix build (an Argo CD plugin); Cairn does not run plugins',
  },
  {
    test: (n) => n === 'plugin.yaml',
    what: 'Argo CD config management plugin configuration; Cairn does not run plugins',
  },
];

/** Argo CD parameter overrides change how Argo CD renders a folder; ignoring them would render it differently. */
const ARGOCD_OVERRIDES = /^\.argocd-source(-.+)?\.ya?ml$/;

export function joinPath(folder: string, name: string): string {
  return folder === '' ? name : `${folder}/${name}`;
}

/** Why a file of a plain folder means the folder cannot be rendered, or undefined. */
export function unsupportedFile(name: string): string | undefined {
  if (ARGOCD_OVERRIDES.test(name)) return 'Argo CD parameter overrides, which Cairn does not apply';
  return UNSUPPORTED.find((u) => u.test(name))?.what;
}

function nearMiss(name: string): string | undefined {
  const lower = name.toLowerCase();
  if ((KUSTOMIZATION_FILES as readonly string[]).includes(name) || name === CHART_FILE) return undefined;
  if (['kustomization.yaml', 'kustomization.yml', 'kustomization'].includes(lower)) {
    return 'kustomize only reads kustomization.yaml, kustomization.yml or Kustomization: rename this file';
  }
  if (lower === 'chart.yaml' || lower === 'chart.yml') return 'Helm only reads Chart.yaml: rename this file';
  return undefined;
}

/**
 * kustomization (any of its three names) wins over Chart.yaml, as in Argo CD; otherwise a plain
 * folder. A misspelt marker, a folder named like one, or Argo CD overrides are errors naming the
 * file. Unsupported formats inside a plain folder are found by the folder walk.
 */
export function detectRenderer(
  folder: string,
  entries: readonly FolderEntry[],
  choice: RendererChoice,
): Detection {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of sorted) {
    const markers: readonly string[] = [...KUSTOMIZATION_FILES, CHART_FILE];
    if (entry.kind !== 'file' && markers.includes(entry.name)) {
      throw new RenderError(
        joinPath(folder, entry.name),
        RenderErrorReason.Unsupported,
        `a ${entry.kind === 'dir' ? 'folder' : 'special file'} where a file was expected`,
      );
    }
    if (ARGOCD_OVERRIDES.test(entry.name)) {
      throw new RenderError(
        joinPath(folder, entry.name),
        RenderErrorReason.Unsupported,
        'Argo CD parameter overrides, which Cairn does not apply: move these settings into the Application',
      );
    }
  }
  const files = new Set(sorted.filter((e) => e.kind === 'file').map((e) => e.name));
  const kustomization = KUSTOMIZATION_FILES.find((n) => files.has(n));
  const chart = files.has(CHART_FILE);
  const misspelt = sorted.find((e) => e.kind === 'file' && nearMiss(e.name) !== undefined);

  switch (choice) {
    case 'kustomize':
      if (!kustomization) {
        throw new RenderError(
          folder,
          RenderErrorReason.NotFound,
          misspelt
            ? `${misspelt.name}: ${nearMiss(misspelt.name)}`
            : 'no kustomization.yaml, kustomization.yml or Kustomization in this folder',
        );
      }
      return { renderer: 'kustomize', file: joinPath(folder, kustomization) };
    case 'helm':
      if (!chart) throw new RenderError(folder, RenderErrorReason.NotFound, 'no Chart.yaml in this folder');
      return { renderer: 'helm', file: joinPath(folder, CHART_FILE) };
    case 'plain':
      return { renderer: 'plain', file: folder };
    case 'auto':
      if (kustomization) return { renderer: 'kustomize', file: joinPath(folder, kustomization) };
      if (chart) return { renderer: 'helm', file: joinPath(folder, CHART_FILE) };
      if (misspelt) {
        throw new RenderError(
          joinPath(folder, misspelt.name),
          RenderErrorReason.Unsupported,
          nearMiss(misspelt.name) as string,
        );
      }
      return { renderer: 'plain', file: folder };
  }
}

// The render stage's data: what a caller asks for and what comes back.
import type { KubeObject } from '../cluster/objects.ts';

/** The renderers Cairn has. */
export const RendererName = {
  Plain: 'plain',
  Kustomize: 'kustomize',
  Helm: 'helm',
} as const;
export type RendererName = (typeof RendererName)[keyof typeof RendererName];

/** A renderer, or `auto`: chosen from the files present (kustomization > Chart.yaml > plain). */
export type RendererChoice = RendererName | 'auto';

/** Where an object came from. */
export interface ManifestSource {
  /**
   * Repository-relative file: the YAML file for plain folders, the template for Helm
   * (from helm's `# Source:` comments), the kustomization file for Kustomize.
   */
  file: string;
  /** 1-based index of the YAML document in that file (or in the tool's output for Kustomize). */
  document: number;
  /** 1-based position among the objects a `kind: List` document expanded to. */
  item?: number;
}

export interface Manifest {
  object: KubeObject;
  source: ManifestSource;
}

/** Budgets that keep a hostile repository from exhausting memory, stack or time. */
export interface RenderLimits {
  /** Bytes of one file read from the repository. */
  maxFileBytes: number;
  /** Bytes of everything one render reads, plus the output of kustomize or helm. */
  maxTotalBytes: number;
  /** Files and folders one render may visit. */
  maxFiles: number;
  /** Nesting of YAML collections. */
  maxDepth: number;
  /** Alias expansions in one YAML document. */
  maxAliasCount: number;
  /** YAML nodes in one file, counting what aliases expand to. */
  maxNodes: number;
  /** Kubernetes objects one render may produce. */
  maxObjects: number;
  /** Wall-clock time of one kustomize or helm run before it is killed. */
  timeoutMs: number;
}

export interface HelmOptions {
  /** Helm's release name: the Application's name unless it says otherwise. Required. */
  releaseName: string;
  /** `--namespace`: the Application's destination namespace. */
  namespace: string;
  /** Values given inline by the Application; they win over every values file. */
  values: Record<string, unknown>;
  /** Repository-relative values files, applied in order after the chart's own values.yaml. */
  valueFiles: string[];
  /** `--kube-version`; empty leaves helm's default. */
  kubeVersion: string;
  /** `--api-versions`, e.g. `monitoring.coreos.com/v1`. */
  apiVersions: string[];
  /**
   * Chart repositories (URL prefixes) whose dependencies may be fetched when they are not vendored
   * in `charts/`. Empty by default: every dependency must be vendored or a `file://` path inside
   * the repository. A render that fetched anything is not cached.
   */
  allowRepositories: string[];
}

export interface KustomizeOptions {
  /**
   * Allow remote bases and resources (git URLs, `github.com/...`, `https://`). Off by default; a
   * render that used one is not cached, since its digest cannot cover remote content.
   */
  allowRemoteBases: boolean;
}

export interface RenderRequest {
  /** Absolute path of the artifact: the checkout of one commit, which is the security boundary. */
  root: string;
  /** Repository-relative folder of the application (`''` or `.` for the root). */
  path: string;
  renderer: RendererChoice;
  helm: HelmOptions;
  kustomize: KustomizeOptions;
  limits: RenderLimits;
}

/** What `defaultRenderOptions()` fills in: everything but the artifact, the path and the release name. */
export type RenderOptions = Omit<RenderRequest, 'root' | 'path' | 'helm'> & {
  helm: Omit<HelmOptions, 'releaseName'>;
};

export function defaultRenderLimits(): RenderLimits {
  return {
    maxFileBytes: 4 * 1024 * 1024,
    maxTotalBytes: 64 * 1024 * 1024,
    maxFiles: 10_000,
    maxDepth: 128,
    maxAliasCount: 100,
    maxNodes: 1_000_000,
    maxObjects: 10_000,
    timeoutMs: 90_000,
  };
}

export function defaultRenderOptions(): RenderOptions {
  return {
    renderer: 'auto',
    helm: {
      namespace: 'default',
      values: {},
      valueFiles: [],
      kubeVersion: '',
      apiVersions: [],
      allowRepositories: [],
    },
    kustomize: { allowRemoteBases: false },
    limits: defaultRenderLimits(),
  };
}

/** Something worth telling a person that does not fail the render. */
export interface RenderWarning {
  file: string;
  message: string;
}

export interface RenderResult {
  renderer: RendererName;
  /** In a stable order: file then document for plain folders, the tool's own order otherwise. */
  manifests: Manifest[];
  /** sha256 over the options and the files this render read; the cache key. */
  digest: string;
  /** Repository-relative files the render read, sorted. */
  files: string[];
  /**
   * The result depends on nothing but `files` (and the options): no remote base, no chart
   * dependency to fetch. Such a result stays valid for any commit that leaves those files alone.
   */
  cacheable: boolean;
  warnings: RenderWarning[];
}

// render: an artifact and a path in, Kubernetes manifests out (plain YAML, Kustomize, Helm, SOPS).
// Pure given its inputs.
export { Renderer, defaultRendererOptions, render } from './renderer.ts';
export type { RenderCacheStats, RendererOptions } from './renderer.ts';
export { RendererName, defaultRenderLimits, defaultRenderOptions } from './types.ts';
export type {
  HelmOptions,
  KustomizeOptions,
  Manifest,
  ManifestSource,
  RenderLimits,
  RenderOptions,
  RenderRequest,
  RenderResult,
  RenderWarning,
  RendererChoice,
} from './types.ts';
export { RenderError, RenderErrorReason, isRenderError } from './errors.ts';

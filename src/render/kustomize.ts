// Kustomize. kustomize's own load restrictor is per kustomization root (it refuses `../base`), so
// Cairn runs it with LoadRestrictionsNone and keeps the boundary itself, at the repository root:
//   1. walk the kustomization graph, sending every local path any field names through the path
//      guard, refusing remote bases unless allowed, and finding cycles;
//   2. copy exactly the files that walk read (and the symlinks it crossed) into a private folder;
//   3. run `kustomize build` on the copy, without a shell, in a clean environment where neither git
//      nor a network proxy is reachable.
// kustomize can therefore only read what the walk checked (and hashed into the digest): a field the
// walk does not know about makes kustomize fail on a missing file instead of reading outside.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { KUSTOMIZATION_FILES, joinPath } from './detect.ts';
import { RenderError, RenderErrorReason, displayText } from './errors.ts';
import { chargeEntry, joinInside, readInside, resolveInside } from './guard.ts';
import type { CrossedLink, ReadBudget, ReadFile, RepoPath } from './guard.ts';
import { checkManifests, manifestsFromDocuments } from './objects.ts';
import type { Manifest, RenderLimits, RenderWarning } from './types.ts';
import { decodeUtf8, parseYaml } from './yaml.ts';

/** How kustomize uses a path: a kustomization (or file) it builds, or a file it reads. */
export type ReferenceKind = 'resource' | 'file' | 'plugin';

export interface KustomizeReference {
  field: string;
  value: string;
  kind: ReferenceKind;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function entries(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value)
    ? value.filter(
        (v): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v),
      )
    : [];
}

/** `key=path` or `path`, as configMapGenerator and secretGenerator `files` take them. */
function generatorFilePath(entry: string): string {
  const eq = entry.indexOf('=');
  return eq === -1 ? entry : entry.slice(eq + 1);
}

/** Inline YAML (a patch or plugin config written in place) rather than a path. */
function isInline(value: string): boolean {
  return value.includes('\n') || /^\s*(apiVersion|kind)\s*:/.test(value);
}

/**
 * Every path a kustomization (or a Component) names, by field, as kustomize v5 reads them. Strings
 * where kustomize expects objects (`patches: [file.yaml]`) are checked as paths too: kustomize will
 * refuse the file, but it must not get to read outside first. Pure.
 */
export function kustomizationReferences(k: Record<string, unknown>): KustomizeReference[] {
  const refs: KustomizeReference[] = [];
  const add = (field: string, values: string[], kind: ReferenceKind) => {
    for (const value of values) if (value !== '' && !isInline(value)) refs.push({ field, value, kind });
  };
  add('resources', strings(k.resources), 'resource');
  add('bases', strings(k.bases), 'resource');
  add('components', strings(k.components), 'resource');
  add('generators', strings(k.generators), 'plugin');
  add('transformers', strings(k.transformers), 'plugin');
  add('validators', strings(k.validators), 'plugin');
  add('crds', strings(k.crds), 'file');
  add('configurations', strings(k.configurations), 'file');
  add('patchesStrategicMerge', strings(k.patchesStrategicMerge), 'file');
  for (const field of ['patches', 'patchesJson6902'] as const) {
    add(field, strings(k[field]), 'file');
    for (const patch of entries(k[field])) add(`${field}[].path`, strings(patch.path), 'file');
  }
  for (const replacement of entries(k.replacements))
    add('replacements[].path', strings(replacement.path), 'file');
  for (const field of ['configMapGenerator', 'secretGenerator'] as const) {
    for (const generator of entries(k[field])) {
      add(`${field}[].files`, strings(generator.files).map(generatorFilePath), 'file');
      add(`${field}[].envs`, strings(generator.envs), 'file');
      add(`${field}[].env`, strings(generator.env), 'file');
    }
  }
  const openapi = k.openapi;
  if (openapi !== null && typeof openapi === 'object' && !Array.isArray(openapi)) {
    add('openapi.path', strings((openapi as Record<string, unknown>).path), 'file');
  }
  for (const chart of entries(k.helmCharts)) {
    add('helmCharts[].valuesFile', strings(chart.valuesFile), 'file');
    add('helmCharts[].additionalValuesFiles', strings(chart.additionalValuesFiles), 'file');
  }
  for (const chart of entries(k.helmChartInflationGenerator)) {
    add('helmChartInflationGenerator[].values', strings(chart.values), 'file');
    add('helmChartInflationGenerator[].chartHome', strings(chart.chartHome), 'file');
  }
  const globals = k.helmGlobals;
  if (globals !== null && typeof globals === 'object' && !Array.isArray(globals)) {
    const g = globals as Record<string, unknown>;
    add('helmGlobals.chartHome', strings(g.chartHome), 'file');
    add('helmGlobals.configHome', strings(g.configHome), 'file');
  }
  return refs;
}

/**
 * The files a builtin generator or transformer configuration (PatchTransformer, ConfigMapGenerator,
 * HelmChartInflationGenerator, ...) names. Pure.
 */
export function pluginConfigReferences(config: Record<string, unknown>): KustomizeReference[] {
  const refs = kustomizationReferences({
    configMapGenerator: [config],
    helmChartInflationGenerator: [config],
    replacements: config.replacements,
  }).map((r) => ({ ...r, field: r.field.replace(/^[A-Za-z]+\[\]\./, '') }));
  for (const value of [...strings(config.path), ...strings(config.paths), ...strings(config.valuesFile)]) {
    if (value !== '' && !isInline(value)) refs.push({ field: 'path', value, kind: 'file' });
  }
  return refs;
}

/**
 * A reference kustomize would fetch rather than read: any URL (`https://`, `ssh://`, `file://`),
 * go-getter and git forms (`git::`, `gh:`, `git@host:`), `github.com/...`, Azure's `_git/`, and
 * anything with a `?ref=`-style query. Erring towards remote is safe: it is refused, not fetched.
 */
export function isRemoteReference(value: string): boolean {
  const lower = value.toLowerCase();
  return (
    /^[a-z][a-z0-9+.-]*:\/\//.test(lower) ||
    /^(git::|gh:|git@|ssh:|github\.com[:/]|gitlab\.com[:/]|bitbucket\.org[:/])/.test(lower) ||
    lower.includes('_git/') ||
    lower.includes('?')
  );
}

export interface KustomizeInputs {
  /** Repository-relative kustomization file of the application. */
  entry: string;
  files: ReadFile[];
  /** Real, repository-relative folders the walk visited, recreated in the copy. */
  dirs: string[];
  links: CrossedLink[];
  /** Remote references, when they are allowed; they make the render uncacheable. */
  remote: string[];
}

interface WalkState {
  rootReal: string;
  limits: RenderLimits;
  budget: ReadBudget;
  allowRemote: boolean;
  files: Map<string, ReadFile>;
  dirs: Set<string>;
  links: Map<string, CrossedLink>;
  remote: string[];
  done: Set<string>;
}

function keepLinks(state: WalkState, found: RepoPath): void {
  for (const link of found.links) state.links.set(link.at, link);
}

async function readOnce(state: WalkState, target: RepoPath): Promise<ReadFile> {
  const known = state.files.get(target.real);
  if (known) return known;
  chargeEntry(state.budget, state.limits, target.path);
  const file = await readInside(target, state.limits, state.budget);
  state.files.set(target.real, file);
  return file;
}

/** Reads the kustomization graph rooted at `folder`, checking every path on the way. */
export async function readKustomization(
  rootReal: string,
  folder: RepoPath,
  limits: RenderLimits,
  budget: ReadBudget,
  allowRemote: boolean,
): Promise<KustomizeInputs> {
  const state: WalkState = {
    rootReal,
    limits,
    budget,
    allowRemote,
    files: new Map(),
    dirs: new Set(),
    links: new Map(),
    remote: [],
    done: new Set(),
  };
  keepLinks(state, folder);
  const entry = await visit(state, folder, []);
  if (!entry) {
    throw new RenderError(folder.path, RenderErrorReason.NotFound, 'no kustomization file in this folder');
  }
  return {
    entry,
    files: [...state.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    dirs: [...state.dirs].sort(),
    links: [...state.links.values()],
    remote: state.remote,
  };
}

/** One kustomization folder; returns its kustomization file, or undefined when it has none. */
async function visit(state: WalkState, dir: RepoPath, chain: Array<{ real: string; file: string }>) {
  state.dirs.add(dir.real);
  chargeEntry(state.budget, state.limits, dir.path);
  const cycleAt = chain.findIndex((c) => c.real === dir.real);
  if (cycleAt !== -1) {
    const loop = [...chain.slice(cycleAt).map((c) => c.file), chain[cycleAt]?.file ?? ''];
    throw new RenderError(
      chain[chain.length - 1]?.file ?? dir.path,
      RenderErrorReason.Cycle,
      `kustomizations include each other: ${loop.join(' -> ')}`,
    );
  }
  // Every kustomization name present is copied, so kustomize still sees two and complains.
  const present: ReadFile[] = [];
  for (const name of KUSTOMIZATION_FILES) {
    const found = await resolveInside(state.rootReal, joinPath(dir.real, name), {
      file: joinPath(dir.path, name),
      field: 'kustomization',
    });
    if (found?.kind === 'file') {
      keepLinks(state, found);
      present.push(await readOnce(state, found));
    }
  }
  const main = present[0];
  if (!main) return undefined;
  const file = joinPath(dir.path, posix.basename(main.path));
  if (state.done.has(dir.real)) return file;
  const docs = parseYaml(decodeUtf8(main.bytes, file), { file, limits: state.limits, mode: 'strings' });
  const k = docs[0]?.value;
  // Not a mapping: kustomize will say so itself; there is nothing more to walk.
  if (k === null || typeof k !== 'object' || Array.isArray(k)) return file;
  const here = [...chain, { real: dir.real, file }];
  for (const ref of kustomizationReferences(k as Record<string, unknown>)) {
    await follow(state, dir, file, ref, here);
  }
  state.done.add(dir.real);
  return file;
}

async function follow(
  state: WalkState,
  dir: RepoPath,
  file: string,
  ref: KustomizeReference,
  chain: Array<{ real: string; file: string }>,
): Promise<void> {
  const shown = JSON.stringify(displayText(ref.value));
  if (ref.kind !== 'file' && isRemoteReference(ref.value)) {
    if (!state.allowRemote) {
      throw new RenderError(
        file,
        RenderErrorReason.RemoteNotAllowed,
        `${ref.field} ${shown} is a remote base; remote bases are not allowed for this application`,
      );
    }
    state.remote.push(ref.value);
    return;
  }
  const namer = { file, field: ref.field };
  // kustomize joins paths to the kustomization's real folder (it resolves symlinks first).
  const path = joinInside(dir.real, ref.value, namer);
  const target = await resolveInside(state.rootReal, path, namer);
  if (!target) return; // missing: kustomize names it in its own error
  keepLinks(state, target);
  if (target.kind === 'dir') {
    if (ref.kind === 'resource' || ref.kind === 'plugin') await visit(state, target, chain);
    else state.dirs.add(target.real);
    return;
  }
  const read = await readOnce(state, target);
  if (ref.kind !== 'plugin') return;
  // A generator or transformer configuration can name files of its own.
  const docs = parseYaml(decodeUtf8(read.bytes, read.path), {
    file: read.path,
    limits: state.limits,
    mode: 'strings',
  });
  for (const doc of docs) {
    if (doc.value === null || typeof doc.value !== 'object' || Array.isArray(doc.value)) continue;
    for (const inner of pluginConfigReferences(doc.value as Record<string, unknown>)) {
      await follow(state, dir, read.path, inner, chain);
    }
  }
}

/** Recreates what the walk read, and the symlinks it crossed, under `tree`. */
export async function materializeKustomization(inputs: KustomizeInputs, tree: string): Promise<void> {
  // Folders first (each once), then every file at once: the copy is on the render's critical path.
  const dirs = new Set([
    tree,
    ...inputs.dirs.map((d) => posix.join(tree, d)),
    ...inputs.files.map((f) => posix.dirname(posix.join(tree, f.real))),
  ]);
  for (const dir of [...dirs].sort()) await mkdir(dir, { recursive: true });
  await Promise.all(
    inputs.files.map((file) => writeFile(posix.join(tree, file.real), file.bytes, { mode: 0o600 })),
  );
  for (const link of inputs.links) {
    const at = posix.join(tree, link.at);
    await mkdir(posix.dirname(at), { recursive: true });
    await symlink(link.target, at).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
}

/** kustomize's own complaint, without its deprecation warnings. */
export function toolComplaint(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !l.startsWith('# Warning:'));
  return displayText(lines.join(' ').replace(/^Error:\s*/, ''), 2000);
}

/** kustomize's output to manifests, all attributed to the application's kustomization file. Pure. */
export function kustomizeOutputToManifests(
  entry: string,
  output: string,
  limits: RenderLimits,
): { manifests: Manifest[]; warnings: RenderWarning[] } {
  const docs = parseYaml(output, {
    file: entry,
    limits,
    mode: 'kubernetes',
    locate: (offset) => ({ file: entry, line: lineOf(output, offset) }),
  });
  const { manifests, warnings } = manifestsFromDocuments(entry, docs);
  checkManifests(manifests, limits);
  if (manifests.length === 0) {
    throw new RenderError(entry, RenderErrorReason.Empty, 'kustomize build produced no Kubernetes object');
  }
  return { manifests, warnings };
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

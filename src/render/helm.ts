// Helm. The chart folder is read whole through the path guard (helm's loader follows symlinks, so
// every one is checked), its dependencies must be vendored in charts/ or be `file://` charts inside
// the repository (Cairn copies those in, as `helm dependency build` would), and `helm template` runs
// on a private copy with its cache, config and data homes in a temporary folder: no repository is
// contacted unless the request allows one.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { CHART_FILE, joinPath } from './detect.ts';
import { RenderError, RenderErrorReason, displayText } from './errors.ts';
import { chargeEntry, joinInside, looksLikeUrl, readInside, requireInside, resolveInside } from './guard.ts';
import type { ReadBudget, ReadFile, RepoPath } from './guard.ts';
import { checkManifests, manifestsFromDocuments } from './objects.ts';
import type { HelmOptions, Manifest, RenderLimits, RenderWarning } from './types.ts';
import { decodeUtf8, parseYaml } from './yaml.ts';

/** A chart dependency as Chart.yaml (or a v1 chart's requirements.yaml) declares it. */
export interface ChartDependency {
  name: string;
  repository: string;
  version: string;
}

/** A chart folder as read: its files by path inside the chart, and what it depends on. */
export interface ChartInputs {
  /** Repository-relative chart folder. */
  dir: string;
  /** Repository-relative Chart.yaml. */
  chartFile: string;
  /** `name` from Chart.yaml: what helm's `# Source:` comments start with. */
  name: string;
  /** Files, with `path` relative to the chart folder. */
  files: Array<{ inChart: string; file: ReadFile }>;
  /** `file://` dependencies copied into charts/<name>. */
  local: Array<{ name: string; chart: ChartInputs }>;
  /** Dependencies fetched from allowed repositories. */
  fetch: ChartDependency[];
}

const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KUBE_VERSION = /^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$/;
const API_VERSION = /^[A-Za-z0-9][A-Za-z0-9.-]*(\/[A-Za-z0-9.-]+){0,2}$/;

/**
 * The Helm options a request may carry, checked before anything reaches helm's command line (no
 * value can start with `-` or smuggle a second flag). Pure; returns the first problem.
 */
export function helmOptionsProblem(helm: HelmOptions): string | undefined {
  if (!helm.releaseName) return "helm.releaseName is required (the Application's name)";
  if (helm.releaseName.length > 53 || !RELEASE_NAME.test(helm.releaseName)) {
    return `helm.releaseName ${JSON.stringify(displayText(helm.releaseName, 80))} is not a valid release name (lowercase DNS name, at most 53 characters)`;
  }
  if (helm.namespace.length > 63 || !DNS_LABEL.test(helm.namespace)) {
    return `helm.namespace ${JSON.stringify(displayText(helm.namespace, 80))} is not a namespace name`;
  }
  if (helm.kubeVersion !== '' && !KUBE_VERSION.test(helm.kubeVersion)) {
    return `helm.kubeVersion ${JSON.stringify(displayText(helm.kubeVersion, 80))} is not a Kubernetes version`;
  }
  const bad = helm.apiVersions.find((v) => !API_VERSION.test(v));
  if (bad !== undefined)
    return `helm.apiVersions entry ${JSON.stringify(displayText(bad, 80))} is not an API version`;
  if (helm.values === null || typeof helm.values !== 'object' || Array.isArray(helm.values)) {
    return 'helm.values must be a mapping';
  }
  return undefined;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Chart.yaml's name and dependencies (read with every scalar as text). Pure. */
export function chartMetadata(
  chartFile: string,
  chart: unknown,
  requirements: unknown,
): { name: string; dependencies: ChartDependency[] } {
  if (chart === null || typeof chart !== 'object' || Array.isArray(chart)) {
    throw new RenderError(chartFile, RenderErrorReason.InvalidObject, 'Chart.yaml is not a mapping');
  }
  const meta = chart as Record<string, unknown>;
  const name = text(meta.name);
  if (name === '')
    throw new RenderError(chartFile, RenderErrorReason.InvalidObject, 'Chart.yaml has no name');
  const lists = [meta.dependencies];
  if (requirements !== null && typeof requirements === 'object' && !Array.isArray(requirements)) {
    lists.push((requirements as Record<string, unknown>).dependencies);
  }
  const dependencies: ChartDependency[] = [];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const dep of list) {
      if (dep === null || typeof dep !== 'object' || Array.isArray(dep)) continue;
      const d = dep as Record<string, unknown>;
      dependencies.push({ name: text(d.name), repository: text(d.repository), version: text(d.version) });
    }
  }
  return { name, dependencies };
}

/** The chart names helm will find in charts/: sub-folders by their Chart.yaml name, archives by file name. */
function vendoredNames(
  files: ChartInputs['files'],
  limits: RenderLimits,
): { dirs: Set<string>; archives: string[] } {
  const dirs = new Set<string>();
  const archives: string[] = [];
  for (const { inChart, file } of files) {
    const m = /^charts\/([^/]+)\/Chart\.yaml$/.exec(inChart);
    if (m) {
      const docs = parseYaml(decodeUtf8(file.bytes, file.path), {
        file: file.path,
        limits,
        mode: 'strings',
      });
      const value = docs[0]?.value;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const name = text((value as Record<string, unknown>).name);
        if (name) dirs.add(name);
      }
      continue;
    }
    const archive = /^charts\/([^/]+)\.(tgz|tar\.gz)$/.exec(inChart);
    if (archive?.[1]) archives.push(archive[1]);
  }
  return { dirs, archives };
}

function isVendored(dep: ChartDependency, vendored: { dirs: Set<string>; archives: string[] }): boolean {
  if (vendored.dirs.has(dep.name)) return true;
  return vendored.archives.some(
    (a) => a.startsWith(`${dep.name}-`) && /^v?\d/.test(a.slice(dep.name.length + 1)),
  );
}

/**
 * A repository is allowed when it is one of the allowed URLs or below one of them at a path
 * boundary: allowing `https://charts.example/stable` does not allow `https://charts.example/stable-x`
 * nor `https://charts.example.evil/...`. Pure.
 */
export function allowedRepository(repository: string, allow: readonly string[]): boolean {
  const repo = repository.replace(/\/+$/, '');
  return (
    repo !== '' &&
    allow.some((entry) => {
      const prefix = entry.replace(/\/+$/, '');
      return prefix !== '' && (repo === prefix || repo.startsWith(`${prefix}/`));
    })
  );
}

interface ChartWalk {
  rootReal: string;
  limits: RenderLimits;
  budget: ReadBudget;
  allowRepositories: readonly string[];
}

/** Reads a chart folder and, recursively, its `file://` dependencies. */
export async function readChart(
  walk: ChartWalk,
  folder: RepoPath,
  chain: readonly string[] = [],
): Promise<ChartInputs> {
  const chartFile = joinPath(folder.path, CHART_FILE);
  if (chain.includes(folder.real)) {
    throw new RenderError(
      chartFile,
      RenderErrorReason.Cycle,
      'charts depend on each other through file:// dependencies',
    );
  }
  const files: ChartInputs['files'] = [];
  await readChartFolder(walk, folder, '', [folder.real], files);
  const find = (inChart: string) => files.find((f) => f.inChart === inChart)?.file;
  const chartYaml = find(CHART_FILE);
  if (!chartYaml) throw new RenderError(chartFile, RenderErrorReason.NotFound, 'the chart has no Chart.yaml');
  const parse = (file: ReadFile) =>
    parseYaml(decodeUtf8(file.bytes, file.path), { file: file.path, limits: walk.limits, mode: 'strings' })[0]
      ?.value ?? null;
  const requirements = find('requirements.yaml');
  const meta = chartMetadata(chartFile, parse(chartYaml), requirements ? parse(requirements) : null);
  const vendored = vendoredNames(files, walk.limits);
  const local: ChartInputs['local'] = [];
  const fetch: ChartDependency[] = [];
  for (const dep of meta.dependencies) {
    if (isVendored(dep, vendored)) continue;
    const repo = dep.repository;
    const shownDep = JSON.stringify(displayText(dep.name, 80));
    if (repo.startsWith('file://')) {
      const namer = {
        file: chartFile,
        field: `dependency ${shownDep} (repository ${displayText(repo, 200)})`,
      };
      const path = joinInside(folder.real, repo.slice('file://'.length), namer);
      const target = await requireInside(walk.rootReal, path, namer);
      if (target.kind !== 'dir') {
        throw new RenderError(
          chartFile,
          RenderErrorReason.Dependency,
          `${namer.field} is not a chart folder`,
        );
      }
      local.push({ name: dep.name, chart: await readChart(walk, target, [...chain, folder.real]) });
      continue;
    }
    if (allowedRepository(repo, walk.allowRepositories)) {
      fetch.push(dep);
      continue;
    }
    throw new RenderError(
      chartFile,
      RenderErrorReason.Dependency,
      `dependency ${shownDep}${repo ? ` from ${displayText(repo, 200)}` : ''} is not vendored in charts/ and its repository is not allowed: vendor it (helm dependency build, then commit charts/) or allow the repository`,
    );
  }
  return { dir: folder.path, chartFile, name: meta.name, files, local, fetch };
}

async function readChartFolder(
  walk: ChartWalk,
  dir: RepoPath,
  inChart: string,
  chain: string[],
  out: ChartInputs['files'],
): Promise<void> {
  const entries = await readdir(dir.absolute, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name === '.git') continue;
    const path = joinPath(dir.path, entry.name);
    chargeEntry(walk.budget, walk.limits, path);
    const target = await resolveInside(walk.rootReal, path, { file: dir.path, field: 'entry' });
    if (!target) continue;
    const below = inChart === '' ? entry.name : `${inChart}/${entry.name}`;
    if (target.kind === 'dir') {
      if (chain.includes(target.real)) {
        throw new RenderError(
          path,
          RenderErrorReason.BadSymlink,
          'symlink loop: it leads back to a folder above it',
        );
      }
      await readChartFolder(walk, target, below, [...chain, target.real], out);
      continue;
    }
    out.push({ inChart: below, file: await readInside(target, walk.limits, walk.budget) });
  }
}

/** Every file of a chart and of its copied dependencies, for the digest. */
export function chartFiles(chart: ChartInputs): ReadFile[] {
  return [...chart.files.map((f) => f.file), ...chart.local.flatMap((d) => chartFiles(d.chart))];
}

/** Writes the chart, with its `file://` dependencies under charts/, into `to`. */
export async function materializeChart(chart: ChartInputs, to: string): Promise<void> {
  for (const { inChart, file } of chart.files) {
    const at = posix.join(to, inChart);
    await mkdir(posix.dirname(at), { recursive: true });
    await writeFile(at, file.bytes, { mode: 0o600 });
  }
  await mkdir(to, { recursive: true });
  for (const dep of chart.local) await materializeChart(dep.chart, posix.join(to, 'charts', dep.name));
}

/** Values files: repository-relative, through the guard, never URLs or helm plugin schemes. */
export async function readValueFiles(
  walk: ChartWalk,
  valueFiles: readonly string[],
  chartFile: string,
): Promise<ReadFile[]> {
  const out: ReadFile[] = [];
  for (const name of valueFiles) {
    const namer = { file: chartFile, field: 'values file' };
    if (looksLikeUrl(name) || /^[a-z0-9+.-]+:/i.test(name)) {
      throw new RenderError(
        chartFile,
        RenderErrorReason.OutsideRepository,
        `values file ${JSON.stringify(displayText(name))}: URLs and helm plugin schemes are not allowed; name a file inside the repository`,
      );
    }
    const target = await requireInside(walk.rootReal, joinInside('', name, namer), namer);
    chargeEntry(walk.budget, walk.limits, target.path);
    out.push(await readInside(target, walk.limits, walk.budget));
  }
  return out;
}

/** `helm template`'s arguments; every value was checked by helmOptionsProblem. */
export function helmTemplateArgs(
  helm: HelmOptions,
  chartDir: string,
  valuePaths: readonly string[],
): string[] {
  const args = ['template', `--namespace=${helm.namespace}`, '--include-crds'];
  if (helm.kubeVersion) args.push(`--kube-version=${helm.kubeVersion}`);
  for (const v of helm.apiVersions) args.push(`--api-versions=${v}`);
  for (const p of valuePaths) args.push(`--values=${p}`);
  args.push('--', helm.releaseName, chartDir);
  return args;
}

/**
 * Which repository file each document of helm's output came from: helm writes `# Source:
 * <chart name>/templates/x.yaml` above each one. The chart name is mapped back to the chart's folder,
 * and a copied `file://` dependency to its own folder. Pure.
 */
export function sourceMapper(chart: ChartInputs): (source: string) => string {
  const prefixes: Array<[string, string]> = [];
  const add = (c: ChartInputs, prefix: string) => {
    prefixes.push([prefix, c.dir]);
    for (const dep of c.local) add(dep.chart, `${prefix}charts/${dep.name}/`);
  };
  add(chart, `${chart.name}/`);
  prefixes.sort((a, b) => b[0].length - a[0].length);
  return (source) => {
    for (const [prefix, dir] of prefixes) {
      if (source.startsWith(prefix)) return joinPath(dir, source.slice(prefix.length));
    }
    return joinPath(chart.dir, source);
  };
}

/** helm's output to manifests, each attributed to its template. Pure. */
export function helmOutputToManifests(
  chart: ChartInputs,
  output: string,
  limits: RenderLimits,
): { manifests: Manifest[]; warnings: RenderWarning[] } {
  const toRepo = sourceMapper(chart);
  const sources: Array<{ offset: number; line: number; file: string }> = [];
  const re = /^# Source: (.+)$/gm;
  let line = 1;
  let scanned = 0;
  for (let m = re.exec(output); m; m = re.exec(output)) {
    for (let i = output.indexOf('\n', scanned); i !== -1 && i < m.index; i = output.indexOf('\n', i + 1))
      line++;
    scanned = m.index;
    sources.push({ offset: m.index, line, file: toRepo((m[1] ?? '').trim()) });
  }
  const sourceAt = (offset: number) => {
    let found: (typeof sources)[number] | undefined;
    for (const s of sources) {
      if (s.offset > offset) break;
      found = s;
    }
    return found;
  };
  const docs = parseYaml(output, {
    file: chart.chartFile,
    limits,
    mode: 'kubernetes',
    locate: (offset) => {
      const s = sourceAt(offset);
      const lines = output.slice(s?.offset ?? 0, offset).split('\n').length;
      return { file: s?.file ?? chart.chartFile, line: lines };
    },
  });
  const manifests: Manifest[] = [];
  const warnings: RenderWarning[] = [];
  const counts = new Map<string, number>();
  for (const doc of docs) {
    if (doc.value === null) continue;
    const file = sourceAt(doc.offset)?.file ?? chart.chartFile;
    const index = (counts.get(file) ?? 0) + 1;
    counts.set(file, index);
    const found = manifestsFromDocuments(file, [{ ...doc, index }]);
    manifests.push(...found.manifests);
    warnings.push(...found.warnings);
  }
  checkManifests(manifests, limits);
  if (manifests.length === 0) {
    throw new RenderError(
      chart.chartFile,
      RenderErrorReason.Empty,
      'helm template produced no Kubernetes object',
    );
  }
  return { manifests, warnings };
}

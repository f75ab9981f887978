// The render stage's edge: reads the artifact through the path guard, runs kustomize or helm in a
// private temporary folder, and keeps results in an LRU keyed by the digest of what was read.
// Every decision in between (detection, YAML, objects, ordering, digest) is a pure function.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { LruCache } from './cache.ts';
import { detectRenderer, joinPath } from './detect.ts';
import type { FolderEntry } from './detect.ts';
import { renderDigest } from './digest.ts';
import { RenderError, RenderErrorReason, displayText } from './errors.ts';
import { findExecutable, repositoryPaths, runTool } from './exec.ts';
import type { ToolOutcome } from './exec.ts';
import { chargeBytes, joinInside, newReadBudget, openRoot, requireInside, resolveInside } from './guard.ts';
import type { ReadBudget, ReadFile, RepoPath } from './guard.ts';
import {
  chartFiles,
  helmOptionsProblem,
  helmOutputToManifests,
  helmTemplateArgs,
  materializeChart,
  readChart,
  readValueFiles,
} from './helm.ts';
import type { ChartInputs } from './helm.ts';
import {
  kustomizeOutputToManifests,
  materializeKustomization,
  readKustomization,
  toolComplaint,
} from './kustomize.ts';
import { readPlainFolder, renderPlainFiles } from './plain.ts';
import { RendererName } from './types.ts';
import type { Manifest, RenderRequest, RenderResult, RenderWarning } from './types.ts';
import { decodeUtf8 } from './yaml.ts';

export interface RendererOptions {
  /** Rendered results kept (least recently used evicted); 0 turns the cache off. */
  cacheSize: number;
  /** The kustomize command: a name looked up on `searchPath`, or an absolute path. */
  kustomizeCommand: string;
  helmCommand: string;
  /** Where commands are looked up; also the PATH kustomize gets when remote bases are allowed (git). */
  searchPath: string;
  /** Where the private working folders of each render are made. */
  tempDir: string;
}

export function defaultRendererOptions(): RendererOptions {
  return {
    cacheSize: 64,
    kustomizeCommand: 'kustomize',
    helmCommand: 'helm',
    searchPath: process.env.PATH ?? '',
    tempDir: tmpdir(),
  };
}

export interface RenderCacheStats {
  hits: number;
  misses: number;
  size: number;
}

interface Tool {
  bin: string;
  version: string;
}

/** A proxy nothing listens on: with it, a tool that tries the network fails at once. */
const NO_NETWORK_PROXY = 'http://127.0.0.1:9';

/** The whole environment of a tool run: nothing of Cairn's own environment leaks in. */
function toolEnv(home: string, network: { allowed: boolean; path: string }): Record<string, string> {
  const env: Record<string, string> = {
    HOME: home,
    TMPDIR: home,
    LANG: 'C',
    PATH: network.allowed ? network.path : '',
    KUBECONFIG: join(home, 'no-kubeconfig'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_DATA_HOME: join(home, 'data'),
    HELM_CACHE_HOME: join(home, 'helm', 'cache'),
    HELM_CONFIG_HOME: join(home, 'helm', 'config'),
    HELM_DATA_HOME: join(home, 'helm', 'data'),
    HELM_PLUGINS: join(home, 'helm', 'plugins'),
    KUSTOMIZE_PLUGIN_HOME: join(home, 'kustomize-plugins'),
  };
  if (!network.allowed) {
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) {
      env[name] = NO_NETWORK_PROXY;
    }
    env.NO_PROXY = '';
    env.no_proxy = '';
  }
  return env;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function sortedPaths(files: readonly ReadFile[]): string[] {
  return [...new Set(files.map((f) => f.path))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Owns the render cache and the tools; `render()` is safe to call concurrently. */
export class Renderer {
  readonly #options: RendererOptions;
  readonly #cache: LruCache<string, RenderResult>;
  readonly #tools = new Map<string, Promise<Tool | undefined>>();
  #hits = 0;
  #misses = 0;

  constructor(options: Partial<RendererOptions> = {}) {
    this.#options = { ...defaultRendererOptions(), ...options };
    this.#cache = new LruCache(this.#options.cacheSize);
  }

  get cacheStats(): RenderCacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#cache.size };
  }

  /** Renders an application folder; results are frozen (they are shared with the cache). */
  async render(request: RenderRequest): Promise<RenderResult> {
    const rootReal = await openRoot(request.root);
    const appPath = joinInside('', request.path === '' ? '.' : request.path, {
      file: request.path,
      field: 'the application path',
    });
    const folder = await requireInside(rootReal, appPath, { file: appPath, field: 'the application path' });
    if (folder.kind !== 'dir') {
      throw new RenderError(
        appPath,
        RenderErrorReason.InvalidRequest,
        'the application path is not a folder',
      );
    }
    const detection = detectRenderer(appPath, await this.#entries(rootReal, folder), request.renderer);
    const budget = newReadBudget();
    switch (detection.renderer) {
      case RendererName.Plain:
        return this.#renderPlain(request, rootReal, folder, budget);
      case RendererName.Kustomize:
        return this.#renderKustomize(request, rootReal, folder, budget, detection.file);
      case RendererName.Helm:
        return this.#renderHelm(request, rootReal, folder, budget, detection.file);
    }
  }

  async #entries(rootReal: string, folder: RepoPath): Promise<FolderEntry[]> {
    const out: FolderEntry[] = [];
    for (const entry of await readdir(folder.absolute, { withFileTypes: true })) {
      let kind: FolderEntry['kind'] = entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : 'other';
      if (entry.isSymbolicLink()) {
        const path = joinPath(folder.path, entry.name);
        const target = await resolveInside(rootReal, path, { file: folder.path, field: 'entry' });
        kind = target?.kind ?? 'other';
      }
      out.push({ name: entry.name, kind });
    }
    return out;
  }

  #cached(digest: string): RenderResult | undefined {
    const hit = this.#cache.get(digest);
    if (hit) this.#hits++;
    else this.#misses++;
    return hit;
  }

  #finish(
    renderer: RendererName,
    digest: string,
    files: readonly ReadFile[],
    found: { manifests: Manifest[]; warnings: RenderWarning[] },
    cacheable: boolean,
  ): RenderResult {
    const result = deepFreeze({
      renderer,
      // Copies: a parsed string may be a slice of the whole file or tool output it came from, and
      // a cached result would keep all of that text alive.
      manifests: found.manifests.map((m) => ({ ...m, object: structuredClone(m.object) })),
      digest,
      files: sortedPaths(files),
      cacheable,
      warnings: found.warnings,
    });
    if (cacheable) this.#cache.set(digest, result);
    return result;
  }

  async #renderPlain(request: RenderRequest, rootReal: string, folder: RepoPath, budget: ReadBudget) {
    const { files, warnings } = await readPlainFolder(rootReal, folder, request.limits, budget);
    const digest = renderDigest({
      renderer: RendererName.Plain,
      // Files the walk skipped with a warning are not read, but the result mentions them.
      options: { path: folder.path, limits: request.limits, skipped: warnings.map((w) => w.file) },
      tool: '',
      files,
    });
    const hit = this.#cached(digest);
    if (hit) return hit;
    const found = renderPlainFiles(folder.path, files, request.limits);
    return this.#finish(
      RendererName.Plain,
      digest,
      files,
      { manifests: found.manifests, warnings: [...warnings, ...found.warnings] },
      true,
    );
  }

  async #renderKustomize(
    request: RenderRequest,
    rootReal: string,
    folder: RepoPath,
    budget: ReadBudget,
    entryFile: string,
  ) {
    const { limits } = request;
    const allowRemote = request.kustomize.allowRemoteBases;
    const inputs = await readKustomization(rootReal, folder, limits, budget, allowRemote);
    const tool = await this.#tool('kustomize', entryFile);
    const digest = renderDigest({
      renderer: RendererName.Kustomize,
      options: { path: folder.path, limits, kustomize: request.kustomize },
      tool: `${tool.bin} ${tool.version}`,
      files: inputs.files,
    });
    // Remote content is not in the digest, so such a render is never served from the cache.
    const cacheable = inputs.remote.length === 0;
    const hit = cacheable ? this.#cached(digest) : undefined;
    if (hit) return hit;
    return this.#inTempDir(async (work) => {
      const tree = join(work, 'tree');
      await materializeKustomization(inputs, tree);
      const outcome = await runTool({
        bin: tool.bin,
        args: ['build', '--load-restrictor=LoadRestrictionsNone', '--', posix.join(tree, folder.path)],
        cwd: work,
        env: toolEnv(join(work, 'home'), { allowed: allowRemote, path: this.#options.searchPath }),
        timeoutMs: limits.timeoutMs,
        maxStdoutBytes: Math.max(0, limits.maxTotalBytes - budget.bytes),
      });
      const output = await this.#toolOutput(
        'kustomize build',
        outcome,
        inputs.entry,
        [[tree, '']],
        budget,
        request,
      );
      const found = kustomizeOutputToManifests(inputs.entry, output, limits);
      return this.#finish(RendererName.Kustomize, digest, inputs.files, found, cacheable);
    });
  }

  async #renderHelm(
    request: RenderRequest,
    rootReal: string,
    folder: RepoPath,
    budget: ReadBudget,
    chartFile: string,
  ) {
    const { limits, helm } = request;
    const problem = helmOptionsProblem(helm);
    if (problem) throw new RenderError(chartFile, RenderErrorReason.InvalidRequest, problem);
    const walk = { rootReal, limits, budget, allowRepositories: helm.allowRepositories };
    const chart = await readChart(walk, folder);
    const values = await readValueFiles(walk, helm.valueFiles, chartFile);
    const tool = await this.#tool('helm', chartFile);
    const files = [...chartFiles(chart), ...values];
    const digest = renderDigest({
      renderer: RendererName.Helm,
      options: { path: folder.path, limits, helm },
      tool: `${tool.bin} ${tool.version}`,
      files,
    });
    const cacheable = !needsFetch(chart);
    const hit = cacheable ? this.#cached(digest) : undefined;
    if (hit) return hit;
    return this.#inTempDir(async (work) => {
      const chartDir = join(work, 'chart');
      const home = join(work, 'home');
      await materializeChart(chart, chartDir);
      await this.#fetchDependencies(tool, chart, chartDir, home, request);
      const valuePaths: string[] = [];
      const copies: Array<[string, string]> = [[chartDir, chart.dir]];
      await mkdir(join(work, 'values'));
      for (const [i, file] of values.entries()) {
        const at = join(work, 'values', `${i + 1}.yaml`);
        await writeFile(at, file.bytes, { mode: 0o600 });
        valuePaths.push(at);
        copies.push([at, file.path]);
      }
      if (Object.keys(helm.values).length > 0) {
        // Inline values come last: they win over every values file, as in Argo CD.
        const at = join(work, 'values', 'inline.json');
        await writeFile(at, JSON.stringify(helm.values), { mode: 0o600 });
        valuePaths.push(at);
        copies.push([at, '(helm.values)']);
      }
      const outcome = await runTool({
        bin: tool.bin,
        args: helmTemplateArgs(helm, chartDir, valuePaths),
        cwd: work,
        env: toolEnv(home, { allowed: false, path: '' }),
        timeoutMs: limits.timeoutMs,
        maxStdoutBytes: Math.max(0, limits.maxTotalBytes - budget.bytes),
      });
      const output = await this.#toolOutput('helm template', outcome, chartFile, copies, budget, request);
      const found = helmOutputToManifests(chart, output, limits);
      return this.#finish(RendererName.Helm, digest, files, found, cacheable);
    });
  }

  /** `helm pull` for dependencies from allowed repositories, into the copy's charts/ folders. */
  async #fetchDependencies(
    tool: Tool,
    chart: ChartInputs,
    chartDir: string,
    home: string,
    request: RenderRequest,
  ) {
    for (const dep of chart.fetch) {
      const into = join(chartDir, 'charts');
      await mkdir(into, { recursive: true });
      const oci = dep.repository.startsWith('oci://');
      const args = ['pull', '--untar', `--untardir=${into}`];
      if (dep.version) args.push(`--version=${dep.version}`);
      if (!oci) args.push(`--repo=${dep.repository}`);
      args.push('--', oci ? `${dep.repository.replace(/\/$/, '')}/${dep.name}` : dep.name);
      const outcome = await runTool({
        bin: tool.bin,
        args,
        cwd: home,
        env: toolEnv(home, { allowed: true, path: this.#options.searchPath }),
        timeoutMs: request.limits.timeoutMs,
        maxStdoutBytes: 1024 * 1024,
      });
      if (outcome.timedOut || outcome.code !== 0) {
        throw new RenderError(
          chart.chartFile,
          outcome.timedOut ? RenderErrorReason.Timeout : RenderErrorReason.Dependency,
          `fetching dependency ${JSON.stringify(displayText(dep.name, 80))} from ${displayText(dep.repository)} failed: ${
            outcome.timedOut ? 'timed out' : toolComplaint(outcome.stderr)
          }`,
        );
      }
    }
    for (const dep of chart.local) {
      await this.#fetchDependencies(tool, dep.chart, join(chartDir, 'charts', dep.name), home, request);
    }
  }

  async #toolOutput(
    what: string,
    outcome: ToolOutcome,
    file: string,
    copies: ReadonlyArray<[string, string]>,
    budget: ReadBudget,
    request: RenderRequest,
  ): Promise<string> {
    const { limits } = request;
    if (outcome.timedOut) {
      throw new RenderError(
        file,
        RenderErrorReason.Timeout,
        `${what} ran longer than ${limits.timeoutMs} ms and was stopped`,
      );
    }
    if (outcome.stdoutTooLarge) {
      throw new RenderError(
        file,
        RenderErrorReason.LimitExceeded,
        `${what} wrote more than the render's limit of ${limits.maxTotalBytes} bytes`,
      );
    }
    if (outcome.code !== 0) {
      const complaint = await repositoryPaths(toolComplaint(outcome.stderr), copies);
      throw new RenderError(
        file,
        RenderErrorReason.ToolFailed,
        `${what} failed: ${complaint || `exit code ${outcome.code ?? 'none'}`}`,
      );
    }
    chargeBytes(budget, limits, file, outcome.stdout.length);
    return decodeUtf8(outcome.stdout, file);
  }

  async #inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    // A fresh, unguessable folder per render (mode 0700): no render can name another's files.
    const dir = await mkdtemp(join(this.#options.tempDir, 'cairn-render-'));
    try {
      await mkdir(join(dir, 'home'));
      return await fn(dir);
    } finally {
      // Removed in the background: the result does not wait for the clean-up (pending file
      // operations still keep the process alive until it is done).
      rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  }

  #tool(name: 'kustomize' | 'helm', file: string): Promise<Tool> {
    let pending = this.#tools.get(name);
    if (!pending) {
      pending = this.#findTool(name);
      this.#tools.set(name, pending);
    }
    return pending.then((tool) => {
      if (!tool) {
        this.#tools.delete(name);
        throw new RenderError(
          file,
          RenderErrorReason.ToolFailed,
          `${name} is not installed: ${name === 'kustomize' ? this.#options.kustomizeCommand : this.#options.helmCommand} was not found`,
        );
      }
      return tool;
    });
  }

  async #findTool(name: 'kustomize' | 'helm'): Promise<Tool | undefined> {
    const command = name === 'kustomize' ? this.#options.kustomizeCommand : this.#options.helmCommand;
    const bin = await findExecutable(command, this.#options.searchPath);
    if (!bin) return undefined;
    // The version is part of the digest: a new kustomize or helm renders everything afresh.
    const version = await this.#inTempDir(async (dir) => {
      const outcome = await runTool({
        bin,
        args: name === 'kustomize' ? ['version'] : ['version', '--short'],
        cwd: dir,
        env: toolEnv(join(dir, 'home'), { allowed: false, path: '' }),
        timeoutMs: 30_000,
        maxStdoutBytes: 64 * 1024,
      }).catch(() => undefined);
      return outcome?.code === 0 ? outcome.stdout.toString('utf8').trim() : 'unknown';
    });
    return { bin, version };
  }
}

function needsFetch(chart: ChartInputs): boolean {
  return chart.fetch.length > 0 || chart.local.some((d) => needsFetch(d.chart));
}

/** Renders once, without a cache: for one-shot callers such as the CLI. */
export function render(request: RenderRequest): Promise<RenderResult> {
  return new Renderer({ cacheSize: 0 }).render(request);
}

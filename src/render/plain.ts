// Plain folders: every *.yaml, *.yml and *.json below the folder (any letter case), in path order.
// Hidden folders (.git, .github) are skipped; every symlink met goes through the path guard, whatever
// its name; formats Cairn does not render, and charts or kustomizations nested in the folder, are
// errors rather than files quietly left out.
import { readdir } from 'node:fs/promises';
import { CHART_FILE, KUSTOMIZATION_FILES, joinPath, unsupportedFile } from './detect.ts';
import { RenderError, RenderErrorReason, displayPath } from './errors.ts';
import { chargeEntry, readInside, resolveInside } from './guard.ts';
import type { ReadBudget, ReadFile, RepoPath } from './guard.ts';
import { checkManifests, compareSources, manifestsFromDocuments } from './objects.ts';
import type { Manifest, RenderLimits, RenderWarning } from './types.ts';
import { decodeUtf8, parseYaml } from './yaml.ts';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

interface WalkState {
  rootReal: string;
  limits: RenderLimits;
  budget: ReadBudget;
  top: string;
  files: ReadFile[];
  warnings: RenderWarning[];
}

/** Reads the manifest files of a plain folder (the only I/O of the plain renderer). */
export async function readPlainFolder(
  rootReal: string,
  folder: RepoPath,
  limits: RenderLimits,
  budget: ReadBudget,
): Promise<{ files: ReadFile[]; warnings: RenderWarning[] }> {
  const state: WalkState = { rootReal, limits, budget, top: folder.path, files: [], warnings: [] };
  await walk(state, folder.path, folder.absolute, [folder.real]);
  state.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files: state.files, warnings: state.warnings };
}

async function walk(state: WalkState, dir: string, absolute: string, chain: string[]): Promise<void> {
  const entries = await readdir(absolute, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const namer = { file: dir, field: 'entry' };
  for (const entry of entries) {
    const path = joinPath(dir, entry.name);
    chargeEntry(state.budget, state.limits, path);
    const unsupported = unsupportedFile(entry.name);
    if (unsupported && !entry.isDirectory()) {
      throw new RenderError(path, RenderErrorReason.Unsupported, unsupported);
    }
    let target: RepoPath | undefined;
    if (entry.isSymbolicLink() || entry.isDirectory() || entry.isFile()) {
      if (entry.isDirectory() && entry.name.startsWith('.')) continue;
      target = await resolveInside(state.rootReal, path, namer);
    }
    if (!target) {
      if (MANIFEST_FILE.test(entry.name)) {
        throw new RenderError(path, RenderErrorReason.Unsupported, 'not a regular file');
      }
      continue;
    }
    if (target.kind === 'dir') {
      if (entry.name.startsWith('.')) continue;
      if (chain.includes(target.real)) {
        throw new RenderError(
          path,
          RenderErrorReason.BadSymlink,
          'symlink loop: it leads back to a folder above it',
        );
      }
      await walk(state, path, target.absolute, [...chain, target.real]);
      continue;
    }
    if (!MANIFEST_FILE.test(entry.name)) continue;
    const isKustomization = (KUSTOMIZATION_FILES as readonly string[]).includes(entry.name);
    if (isKustomization || entry.name === CHART_FILE) {
      const what = isKustomization ? 'a kustomization' : 'a Helm chart';
      if (dir !== state.top) {
        throw new RenderError(
          path,
          RenderErrorReason.Unsupported,
          `${what} inside a plain folder: plain folders do not build it; point an Application at its folder`,
        );
      }
      state.warnings.push({
        file: path,
        message: `${displayPath(path)}: ${what}, ignored because the plain renderer was chosen`,
      });
      continue;
    }
    state.files.push(await readInside(target, state.limits, state.budget));
  }
}

/** The plain renderer's decisions, pure: files in, validated manifests out. */
export function renderPlainFiles(
  folder: string,
  files: readonly ReadFile[],
  limits: RenderLimits,
): { manifests: Manifest[]; warnings: RenderWarning[] } {
  const manifests: Manifest[] = [];
  const warnings: RenderWarning[] = [];
  for (const file of files) {
    const text = decodeUtf8(file.bytes, file.path);
    const docs = parseYaml(text, { file: file.path, limits, mode: 'kubernetes' });
    const found = manifestsFromDocuments(file.path, docs);
    manifests.push(...found.manifests);
    warnings.push(...found.warnings);
    if (manifests.length > limits.maxObjects) break;
  }
  manifests.sort((a, b) => compareSources(a.source, b.source));
  checkManifests(manifests, limits);
  if (manifests.length === 0) {
    throw new RenderError(
      folder,
      RenderErrorReason.Empty,
      files.length === 0
        ? 'no *.yaml, *.yml or *.json file in this folder: nothing to render'
        : `no Kubernetes object in the ${files.length} YAML/JSON file${files.length === 1 ? '' : 's'} of this folder`,
    );
  }
  return { manifests, warnings };
}

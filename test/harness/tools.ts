// Finds (and on first use builds) the pinned binaries of the test bed: see tools/build.sh.
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

export const TOOLS = ['k8s', 'etcd', 'kwok', 'helm', 'kustomize'] as const;
export type Tool = (typeof TOOLS)[number];

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD = join(REPO_ROOT, 'tools', 'build.sh');

export class ToolBuildError extends Error {
  override name = 'ToolBuildError';
}

/** The folder that holds (or will hold) a tool's binaries. */
export async function toolDir(tool: Tool): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [BUILD, '--print-dir', tool]);
  return stdout.trim();
}

/**
 * Builds whatever is missing and returns the folder of each tool. Build output streams to
 * `progress` so a cold build (many minutes) shows what it is doing.
 */
export async function ensureTools(
  tools: readonly Tool[] = TOOLS,
  progress: (line: string) => void = () => {},
): Promise<Record<Tool, string>> {
  const dirs = {} as Record<Tool, string>;
  const missing: Tool[] = [];
  for (const t of tools) {
    dirs[t] = await toolDir(t);
    if (!existsSync(join(dirs[t], '.complete'))) missing.push(t);
  }
  if (missing.length > 0) await build(missing, progress);
  return dirs;
}

function build(tools: Tool[], progress: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD, ...tools], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        output.push(line);
        if (output.length > 40) output.shift();
        progress(line);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (e) => reject(new ToolBuildError(`cannot run tools/build.sh: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new ToolBuildError(
            `building ${tools.join(', ')} failed (exit ${code}):\n${output.slice(-20).join('\n')}`,
          ),
        );
    });
  });
}

/** A folder holding kubectl, helm and kustomize, to put on PATH. */
export function binPath(dirs: Record<Tool, string>): string {
  return [dirs.k8s, dirs.helm, dirs.kustomize].join(':');
}

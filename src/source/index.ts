// source: Git mirrors and artifacts. A Git reference in, an immutable `{url, ref, commit, dir}` out.
export {
  GitMirrors,
  changedRefs,
  defaultMirrorOptions,
  SourceEventKind,
  type Artifact,
  type GitRemote,
  type GitSourceSpec,
  type MirrorOptions,
  type MirrorUpdate,
  type SourceEvent,
} from './mirrors.ts';
export type { GitCredentials } from './credentials.ts';
export { SourceError, SourceErrorReason, isSourceError, isStalled, isTransient } from './errors.ts';
export {
  parseGitRef,
  refNameProblem,
  resolveRef,
  type GitRef,
  type RemoteRef,
  type Resolution,
} from './refs.ts';
export { parseGitUrl, redactUrls, type UrlPolicy } from './url.ts';

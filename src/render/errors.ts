// Render failures: one error type naming the repository file at fault and a reason from a closed list.
// Messages never carry file content: only paths, positions, keys and the tools' own diagnostics.

/** Why a render failed. */
export const RenderErrorReason = {
  /** The request itself is unusable (bad release name, path not inside the repository, ...). */
  InvalidRequest: 'InvalidRequest',
  /** A file or folder the repository names does not exist. */
  NotFound: 'NotFound',
  /** A path leaves the repository: `..`, an absolute path, an escaping symlink. */
  OutsideRepository: 'OutsideRepository',
  /** An absolute, dangling or looping symlink. */
  BadSymlink: 'BadSymlink',
  /** A format Cairn does not render (Jsonnet, Argo CD plugins, misspelt kustomization, ...). */
  Unsupported: 'Unsupported',
  /** A size, count, depth or alias budget was exceeded. */
  LimitExceeded: 'LimitExceeded',
  /** Not UTF-8 text, or a NUL byte. */
  Encoding: 'Encoding',
  /** YAML or JSON that does not parse, or uses a construct Cairn refuses (custom tags, `__proto__`). */
  Syntax: 'Syntax',
  /** A document that is not a valid Kubernetes object. */
  InvalidObject: 'InvalidObject',
  /** The same object (group, kind, namespace, name) defined twice. */
  DuplicateObject: 'DuplicateObject',
  /** The render produced no object at all. */
  Empty: 'Empty',
  /** A remote base or chart repository that the request does not allow. */
  RemoteNotAllowed: 'RemoteNotAllowed',
  /** Kustomizations that include each other. */
  Cycle: 'Cycle',
  /** A Helm dependency that is neither vendored nor fetchable. */
  Dependency: 'Dependency',
  /** `kustomize` or `helm` failed; the message carries its own diagnostic. */
  ToolFailed: 'ToolFailed',
  /** `kustomize` or `helm` ran past the time limit and was killed. */
  Timeout: 'Timeout',
} as const;
export type RenderErrorReason = (typeof RenderErrorReason)[keyof typeof RenderErrorReason];

/** `overlays/dev/kustomization.yaml: <what went wrong>`; `file` is repository-relative. */
export class RenderError extends Error {
  override name = 'RenderError';
  readonly file: string;
  readonly reason: RenderErrorReason;

  constructor(file: string, reason: RenderErrorReason, message: string, options?: { cause?: unknown }) {
    super(`${displayPath(file)}: ${message}`, options);
    this.file = file;
    this.reason = reason;
  }
}

export function isRenderError(e: unknown): e is RenderError {
  return e instanceof RenderError;
}

// Control characters, line and paragraph separators and bidirectional overrides can forge log lines
// or hide text; a name holding any of them is shown JSON-quoted.
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** A repository path as shown in messages: as is when printable, JSON-quoted (every unsafe character escaped) otherwise. */
export function displayPath(path: string): string {
  if (path === '') return '.';
  if (!UNSAFE_IN_NAME.test(path)) return path;
  // JSON.stringify escapes C0 controls but leaves DEL, C1, separators and bidi overrides as they are.
  return JSON.stringify(path).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Text from elsewhere (a key, a tag, a tool's message) made safe for a one-line message. */
export function displayText(text: string, max = 200): string {
  const flat = text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    '?',
  );
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

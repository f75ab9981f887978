// Every failure a person sees is one line that says what to do, with the exit code it deserves.
import { KubeApiError } from '../cluster/client.ts';
import { UnknownKindError } from '../cluster/discovery.ts';
import { KubeconfigError } from '../cluster/kubeconfig.ts';
import { ExitCode, NotFoundError, UsageError } from './io.ts';

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
]);

function codeOf(e: unknown): string | undefined {
  for (let cause = e; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ');
}

/** The line and exit code for an error that reached the top of a command (`path` is e.g. `app get`). */
export function describeError(e: unknown, path: string): { message: string; code: ExitCode } {
  const code = codeOf(e);
  // Node's parser explains `--` at length; the flag is what matters.
  const message = oneLine(e instanceof Error ? e.message : String(e)).replace(
    /\. To specify a positional.*$/,
    '',
  );
  if (e instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS'))
    return { message: `${message} (run "cairn ${path} --help" for usage)`, code: ExitCode.Usage };
  if (e instanceof NotFoundError) return { message, code: ExitCode.Failed };
  if (e instanceof KubeconfigError)
    return { message: `${message} (check --kubeconfig, $KUBECONFIG and --context)`, code: ExitCode.Failed };
  if ((code && UNREACHABLE.has(code)) || /: timed out after \d+ ms$/.test(message)) {
    const cause = oneLine(e instanceof Error && e.cause instanceof Error ? e.cause.message : message);
    return {
      message: `cannot reach the Kubernetes API server (${cause}): check that the cluster is running, or pick another with --kubeconfig or --context`,
      code: ExitCode.Failed,
    };
  }
  if (e instanceof KubeApiError && (e.code === 401 || e.code === 403))
    return {
      message: `${message} (the kubeconfig's user lacks access: try another --context, or ask for RBAC)`,
      code: ExitCode.Failed,
    };
  if (e instanceof UnknownKindError)
    return {
      message: `${message} (are Cairn's CRDs installed? run "cairn install")`,
      code: ExitCode.Failed,
    };
  return { message, code: ExitCode.Failed };
}

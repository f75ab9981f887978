// Credentials reach git out of band: an HTTPS password through GIT_ASKPASS and the environment,
// an SSH key through a 0600 file named in GIT_SSH_COMMAND. Never on a command line (visible in
// `ps`), never in the URL, never in a message.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sshCommand } from './git.ts';
import type { GitUrl } from './url.ts';

export type GitCredentials =
  /** HTTPS basic auth; for a token, the provider's user name (or any) and the token as password. */
  | { kind: 'basic'; username: string; password: string }
  /** An SSH private key (unencrypted, PEM or OpenSSH format) and the known_hosts lines to trust. */
  | { kind: 'ssh'; privateKey: string; knownHosts: string };

/** What one git session needs: extra environment, secrets to redact, and files to remove. */
export interface GitAuth {
  env: Record<string, string>;
  secrets: string[];
  dispose(): Promise<void>;
}

/** The askpass program: answers git's prompts from variables only git's process tree can read. */
export const ASKPASS_SCRIPT = `#!/bin/sh
case "$1" in
Username*) printf '%s\\n' "$CAIRN_GIT_USERNAME" ;;
*) printf '%s\\n' "$CAIRN_GIT_PASSWORD" ;;
esac
`;

/** Why these credentials cannot be used with this URL, or undefined. */
export function credentialsProblem(url: GitUrl, credentials: GitCredentials | undefined): string | undefined {
  if (!credentials) return undefined;
  if (typeof credentials !== 'object' || credentials === null) return 'credentials must be an object';
  switch (credentials.kind) {
    case 'basic':
      if (url.transport !== 'https' && url.transport !== 'http') {
        return `basic-auth credentials need an http(s) URL, not ${url.transport}`;
      }
      if (typeof credentials.username !== 'string' || typeof credentials.password !== 'string') {
        return 'basic-auth credentials need a username and a password';
      }
      if (/[\r\n]/.test(credentials.username) || /[\r\n]/.test(credentials.password)) {
        return 'basic-auth credentials may not contain line breaks';
      }
      return undefined;
    case 'ssh':
      if (url.transport !== 'ssh') return `an SSH key needs an ssh URL, not ${url.transport}`;
      if (typeof credentials.privateKey !== 'string' || !credentials.privateKey.includes('PRIVATE KEY')) {
        return 'the SSH private key is missing or not a private key';
      }
      if (typeof credentials.knownHosts !== 'string' || credentials.knownHosts.trim() === '') {
        return 'SSH credentials need known_hosts lines for the server';
      }
      return undefined;
    default:
      return `unknown credentials kind ${JSON.stringify((credentials as { kind: unknown }).kind)}`;
  }
}

/** Prepares a git session's credentials; `scratch` is a private (0700) folder of the cache. */
export async function prepareAuth(options: {
  credentials: GitCredentials | undefined;
  scratch: string;
  askpass: string;
  connectTimeoutS: number;
}): Promise<GitAuth> {
  const { credentials } = options;
  const none: GitAuth = { env: {}, secrets: [], dispose: () => Promise.resolve() };
  if (!credentials) return none;
  if (credentials.kind === 'basic') {
    return {
      env: {
        GIT_ASKPASS: options.askpass,
        CAIRN_GIT_USERNAME: credentials.username,
        CAIRN_GIT_PASSWORD: credentials.password,
      },
      secrets: [credentials.password],
      dispose: () => Promise.resolve(),
    };
  }
  const dir = await mkdtemp(join(options.scratch, 'ssh-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    await chmod(dir, 0o700);
    const keyFile = join(dir, 'identity');
    const knownHostsFile = join(dir, 'known_hosts');
    // ssh rejects a key file without a final newline ("invalid format").
    const key = credentials.privateKey.endsWith('\n')
      ? credentials.privateKey
      : `${credentials.privateKey}\n`;
    await writeFile(keyFile, key, { mode: 0o600, flag: 'wx' });
    await writeFile(knownHostsFile, `${credentials.knownHosts.trim()}\n`, { mode: 0o600, flag: 'wx' });
    return {
      env: {
        GIT_SSH_COMMAND: sshCommand({ keyFile, knownHostsFile, connectTimeoutS: options.connectTimeoutS }),
      },
      secrets: [credentials.privateKey.trim()],
      dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}

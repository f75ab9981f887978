// The UI's calls to `cairn server`: JSON over fetch with the session cookie, the CSRF token on
// writes, and the live event stream.
import type { Application } from '../../src/api/types.ts';

export type { Application };

export interface Person {
  user: string;
  groups: string[];
  csrf: string | null;
}

export interface AppList {
  items: Application[];
  metadata: { total: number; page: number; pageSize: number };
  counts: { sync: Record<string, number>; health: Record<string, number> };
  namespaces: string[];
}

export interface TreeNode {
  kind: string;
  namespace?: string;
  name: string;
  sync?: string;
  health: string;
  message?: string;
  children: TreeNode[];
}

export interface TreeView {
  application: string;
  namespace: string;
  sync: string;
  health: string;
  resources: TreeNode[];
}

export interface ObjectDiff {
  name: string;
  change: 'create' | 'configure' | 'delete' | 'none';
  patch: string;
  added: number;
  removed: number;
}

export interface DiffView {
  application: string;
  namespace: string;
  revision: string;
  changed: boolean;
  objects: ObjectDiff[];
}

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

let csrf: string | null = null;

export function rememberCsrf(token: string | null): void {
  csrf = token;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      Accept: 'application/json',
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(method !== 'GET' && csrf ? { 'X-CSRF-Token': csrf } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok)
    throw new ApiError(res.status, (data as { error?: string } | undefined)?.error ?? `HTTP ${res.status}`);
  return data as T;
}

const appPath = (namespace: string, name: string) =>
  `/api/applications/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

export const api = {
  session: () => call<Person>('GET', '/api/session'),
  login: (credentials: { username: string; password: string } | { token: string }) =>
    call<Person>('POST', '/api/login', credentials),
  logout: () => call<void>('POST', '/api/logout'),
  list: (query: URLSearchParams) => call<AppList>('GET', `/api/applications?${query.toString()}`),
  get: (namespace: string, name: string) => call<Application>('GET', appPath(namespace, name)),
  tree: (namespace: string, name: string) => call<TreeView>('GET', `${appPath(namespace, name)}/tree`),
  diff: (namespace: string, name: string) => call<DiffView>('GET', `${appPath(namespace, name)}/diff`),
  act: (namespace: string, name: string, action: string, body?: unknown) =>
    call<Application>('POST', `${appPath(namespace, name)}/${action}`, body ?? {}),
};

/** Calls back with every Application change the person may see; returns the unsubscribe. */
export function subscribe(onChange: (type: string, app: Application) => void): () => void {
  const source = new EventSource('/api/events');
  source.addEventListener('application', (e) => {
    const { type, object } = JSON.parse((e as MessageEvent<string>).data) as {
      type: string;
      object: Application;
    };
    onChange(type, object);
  });
  return () => source.close();
}

export const syncOf = (a: Application) => a.status?.sync?.status ?? 'Unknown';
export const healthOf = (a: Application) => a.status?.health?.status ?? 'Unknown';

import { readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { ClusterConnection } from './kubeconfig.ts';
import { ApiDiscovery, type ResourceInfo } from './discovery.ts';
import { type KubeObject, type ObjectRef, refOf, describeRef } from './objects.ts';

/** The one field manager Cairn applies with. */
export const FIELD_MANAGER = 'cairn';

export interface KubeClientOptions {
  /** Sockets kept open to the API server; requests beyond this queue in the agent. */
  maxSockets: number;
  /** Per-request timeout in milliseconds (not for watches). */
  timeoutMs: number;
  userAgent: string;
  /** Sent with every request, e.g. Impersonate-User and Impersonate-Group. */
  headers?: Readonly<Record<string, string | readonly string[]>>;
}

export function defaultKubeClientOptions(): KubeClientOptions {
  return { maxSockets: 32, timeoutMs: 30_000, userAgent: 'cairn' };
}

/** A failure answered by the API server, with its Status reason. */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  readonly code: number;
  readonly reason: string;
  readonly details: unknown;

  constructor(subject: string, code: number, reason: string, message: string, details?: unknown) {
    super(`${subject}: ${message}`);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.code === 409;
export const isForbidden = (e: unknown): boolean => e instanceof KubeApiError && e.code === 403;
export const isInvalid = (e: unknown): boolean => e instanceof KubeApiError && e.code === 422;

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Named in error messages, e.g. `Deployment/shop/cart`. */
  subject?: string;
  signal?: AbortSignal;
}

export interface ApplyOptions {
  fieldManager: string;
  force: boolean;
  dryRun: boolean;
  /** Apply to a subresource such as `status` instead of the object. */
  subresource?: string;
}

export function defaultApplyOptions(): ApplyOptions {
  return { fieldManager: FIELD_MANAGER, force: true, dryRun: false };
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/**
 * A small Kubernetes API client over HTTPS with keep-alive. It speaks JSON, resolves kinds to
 * resources through discovery, and reports failures as KubeApiError naming the object.
 */
export class KubeClient {
  readonly connection: ClusterConnection;
  readonly discovery: ApiDiscovery;
  #agent: Agent;
  #shared = false;
  readonly #options: KubeClientOptions;
  readonly #base: URL;
  #requests = 0;
  readonly #byMethod = new Map<string, number>();

  constructor(connection: ClusterConnection, options: KubeClientOptions = defaultKubeClientOptions()) {
    this.connection = connection;
    this.#options = options;
    this.#base = new URL(connection.server);
    if (this.#base.protocol !== 'https:') {
      throw new Error(`${connection.origin}: server ${connection.server} is not https`);
    }
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: options.maxSockets,
      ...(connection.ca ? { ca: connection.ca } : {}),
      ...(connection.clientCertificate ? { cert: connection.clientCertificate } : {}),
      ...(connection.clientKey ? { key: connection.clientKey } : {}),
      rejectUnauthorized: !connection.insecureSkipTlsVerify,
    });
    this.discovery = new ApiDiscovery((path) => this.request<unknown>('GET', path));
  }

  /** Requests sent since this client was made (for tests and benchmarks). */
  get requestCount(): number {
    return this.#requests;
  }

  /** Requests sent so far per HTTP method (GET, PATCH, POST, PUT, DELETE). */
  requestsByMethod(): Record<string, number> {
    return Object.fromEntries(this.#byMethod);
  }

  close(): void {
    if (!this.#shared) this.#agent.destroy();
  }

  /**
   * A client acting as another person (Impersonate-User and Impersonate-Group) over this one's
   * sockets and discovery, so the API server decides what they may do. Closing it closes nothing.
   */
  impersonating(user: string, groups: readonly string[]): KubeClient {
    const other = new KubeClient(this.connection, {
      ...this.#options,
      headers: { ...this.#options.headers, 'Impersonate-User': user, 'Impersonate-Group': [...groups] },
    });
    other.#agent.destroy();
    other.#agent = this.#agent;
    other.#shared = true;
    (other as { discovery: ApiDiscovery }).discovery = this.discovery;
    return other;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.#send(method, path, options);
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      // Health endpoints answer plain text ("ok"); everything else is JSON.
      const json = (res.headers['content-type'] ?? '').includes('json');
      return (json && text ? JSON.parse(text) : text || undefined) as T;
    }
    throw apiError(options.subject ?? `${method} ${path}`, status, text);
  }

  /** Opens a streaming request (a watch); the caller reads and closes the response. */
  async stream(path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await this.#send('GET', path, { ...options }, 0);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    throw apiError(options.subject ?? `GET ${path}`, status, await readBody(res));
  }

  async resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo> {
    return this.discovery.resourceFor(apiVersion, kind);
  }

  /** The URL path of a collection (no name) or of one object. */
  async pathFor(ref: Omit<ObjectRef, 'name'> & { name?: string }, subresource?: string): Promise<string> {
    const info = await this.resourceFor(ref.apiVersion, ref.kind);
    const prefix = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    let path = prefix;
    if (info.namespaced) {
      if (!ref.namespace && ref.name)
        throw new Error(`${describeRef(ref as ObjectRef)}: namespaced kind needs a namespace`);
      if (ref.namespace) path += `/namespaces/${encodeURIComponent(ref.namespace)}`;
    }
    path += `/${info.resource}`;
    if (ref.name) path += `/${encodeURIComponent(ref.name)}`;
    if (subresource) path += `/${subresource}`;
    return path;
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    return this.request<T>('GET', await this.pathFor(ref), { subject: describeRef(ref) });
  }

  /** The object, or undefined when it does not exist. */
  async getOptional<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.get<T>(ref);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    options: ListOptions = {},
  ): Promise<{ items: T[]; metadata: { resourceVersion?: string } }> {
    const path = await this.pathFor({
      apiVersion,
      kind,
      ...(options.namespace ? { namespace: options.namespace } : {}),
    });
    return this.request('GET', path, {
      query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector },
      subject: `${kind} list`,
    });
  }

  async create<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    options: { dryRun?: boolean } = {},
  ): Promise<T> {
    const ref = refOf(obj);
    const { name: _name, ...collection } = ref;
    const path = await this.pathFor(collection);
    return this.request<T>('POST', path, {
      body: obj,
      query: { dryRun: options.dryRun ? 'All' : undefined },
      subject: describeRef(ref),
    });
  }

  /** Server-side apply: the object is the whole intent of the field manager. */
  async apply<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    options: Partial<ApplyOptions> = {},
  ): Promise<T> {
    const opts = { ...defaultApplyOptions(), ...options };
    const ref = refOf(obj);
    return this.request<T>('PATCH', await this.pathFor(ref, opts.subresource), {
      body: obj,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: opts.fieldManager, force: opts.force, dryRun: opts.dryRun ? 'All' : undefined },
      subject: describeRef(ref),
    });
  }

  async delete(
    ref: ObjectRef,
    options: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' } = {},
  ): Promise<void> {
    await this.request('DELETE', await this.pathFor(ref), {
      body: {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        propagationPolicy: options.propagationPolicy ?? 'Background',
      },
      subject: describeRef(ref),
    });
  }

  #tokenCache: { value: string; readAt: number } | undefined;

  #token(): string | undefined {
    if (this.connection.token) return this.connection.token;
    if (!this.connection.tokenFile) return undefined;
    if (!this.#tokenCache || Date.now() - this.#tokenCache.readAt > 60_000) {
      this.#tokenCache = {
        value: readFileSync(this.connection.tokenFile, 'utf8').trim(),
        readAt: Date.now(),
      };
    }
    return this.#tokenCache.value;
  }

  #send(
    method: string,
    path: string,
    options: RequestOptions,
    timeoutMs = this.#options.timeoutMs,
  ): Promise<IncomingMessage> {
    const url = new URL(path, this.#base);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    }
    const payload =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    const headers: Record<string, string | string[]> = {
      Accept: 'application/json',
      'User-Agent': this.#options.userAgent,
    };
    for (const [k, v] of Object.entries(this.#options.headers ?? {})) {
      if (typeof v === 'string') headers[k] = v;
      else if (v.length > 0) headers[k] = [...v];
    }
    if (payload !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const token = this.#token();
    if (token) headers.Authorization = `Bearer ${token}`;
    this.#requests++;
    this.#byMethod.set(method, (this.#byMethod.get(method) ?? 0) + 1);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method, headers, agent: this.#agent, signal: options.signal }, resolve);
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () =>
          req.destroy(new Error(`${method} ${url.pathname}: timed out after ${timeoutMs} ms`)),
        );
      }
      req.on('error', (cause) =>
        reject(
          new Error(
            `${options.subject ?? `${method} ${url.pathname}`}: request to ${this.#base.host} failed: ${cause.message}`,
            { cause },
          ),
        ),
      );
      req.end(payload);
    });
  }
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function apiError(subject: string, status: number, text: string): KubeApiError {
  try {
    const s = JSON.parse(text) as { kind?: string; reason?: string; message?: string; details?: unknown };
    if (s.kind === 'Status')
      return new KubeApiError(subject, status, s.reason ?? '', s.message ?? `HTTP ${status}`, s.details);
  } catch {
    // not a Status object; fall through
  }
  return new KubeApiError(subject, status, '', `HTTP ${status}: ${text.slice(0, 300)}`);
}

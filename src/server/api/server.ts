// `cairn server`: the JSON API over the engine's own types, live updates as server-sent events
// from an Application informer, the OpenAPI description and the UI's static files. Every action
// is asked of Kubernetes for the person first (SubjectAccessReview) and writes go out as them
// (impersonation): the routes decide nothing Kubernetes would decide.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_VERSION, GROUP, type Application, type GitRepository } from '../../api/types.ts';
import type { KubeObject } from '../../cluster/objects.ts';
import { isForbidden, isNotFound, KubeApiError, type KubeClient } from '../../cluster/client.ts';
import type { Informer, InformerEvent } from '../../cluster/informer.ts';
import { patchApplication, repositoryRef, requestFetch, requestReconcile, setPin } from '../../cli/apps.ts';
import { applicationDiff, checkout } from '../../cli/commands/app-diff.ts';
import { applicationTree } from '../../cli/commands/app-tree.ts';
import type { Logger } from '../../log.ts';
import { AccessReviewer, defaultAccessReviewerOptions, type AccessQuestion } from './access.ts';
import { statusBadge } from './badge.ts';
import {
  checkAdminPassword,
  cookieValue,
  CSRF_HEADER,
  newSession,
  RateLimiter,
  reviewToken,
  sameSecret,
  SESSION_COOKIE,
  sessionCookie,
  signSession,
  verifySession,
  type AdminAccount,
  type Person,
} from './identity.ts';
import { objectKey } from '../../plan/keys.ts';
import { openApiDocument } from './openapi.ts';
import { healthOf, parseApplicationQuery, queryApplications, syncOf } from './query.ts';

/** Turns a person's login at an OpenID provider into a Person (see oidc.ts); optional. */
export interface OidcLogin {
  /** Where to send the browser to log in; `state` comes back to `finish`. */
  start(state: string): Promise<string>;
  finish(params: URLSearchParams, state: string): Promise<Person>;
}

export interface ApiServerOptions {
  port: number;
  host: string | undefined;
  version: string;
  /** The built UI; undefined serves the API only. */
  uiDir: string | undefined;
  sessionKey: Buffer;
  sessionTtlMs: number;
  /** Mark cookies Secure (behind TLS). */
  secureCookies: boolean;
  admin: AdminAccount | undefined;
  /** Public SVG badges per Application. */
  badges: boolean;
  /** Git checkouts for diffs. */
  gitCacheDir: string | undefined;
  allowHttpGit: boolean;
  /**
   * The user diffs read the GitRepository and its Secret and dry-run as (in a cluster, the
   * controller's ServiceAccount: the diff shows what it would apply); undefined: the server itself.
   */
  diffAs: string | undefined;
  loginAttemptsPerMinute: number;
  bodyLimitBytes: number;
}

export function defaultApiServerOptions(): ApiServerOptions {
  return {
    port: 8090,
    host: undefined,
    version: '0.0.0',
    uiDir: undefined,
    sessionKey: randomBytes(32),
    sessionTtlMs: 8 * 3_600_000,
    secureCookies: false,
    admin: undefined,
    badges: false,
    gitCacheDir: undefined,
    allowHttpGit: false,
    diffAs: undefined,
    loginAttemptsPerMinute: 10,
    bodyLimitBytes: 64 * 1024,
  };
}

export interface ApiServerDeps {
  /** The server's own identity: TokenReview, SubjectAccessReview, impersonation, the cache. */
  client: KubeClient;
  applications: Informer<Application>;
  logger: Logger;
  now: () => number;
  oidc?: OidcLogin;
}

/** Strict enough that only the UI's own files run: no inline script or style, no framing. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** An answer with a status: thrown by handlers, written as `{error}` JSON. */
class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface Caller {
  person: Person;
  /** Set for cookie sessions; bearer tokens need no CSRF token. */
  csrf?: string;
}

const applicationKey = (namespace: string, name: string) =>
  objectKey({ apiVersion: API_VERSION, kind: 'Application', namespace, name });

const APP_ACTIONS = new Set(['sync', 'refresh', 'suspend', 'resume', 'rollback']);
const APP_VIEWS = new Set(['tree', 'history', 'diff']);

export class ApiServer {
  readonly #deps: ApiServerDeps;
  readonly #options: ApiServerOptions;
  readonly #access: AccessReviewer;
  readonly #logins: RateLimiter;
  readonly #tokens = new Map<string, { at: number; person: Promise<Person | undefined> }>();
  readonly #streams = new Set<ServerResponse>();
  readonly #oidcStates = new Map<string, number>();
  #server: Server | undefined;

  constructor(deps: ApiServerDeps, options: ApiServerOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#access = new AccessReviewer(deps.client, defaultAccessReviewerOptions(), deps.now);
    this.#logins = new RateLimiter(options.loginAttemptsPerMinute, 60_000);
  }

  get accessReviews(): number {
    return this.#access.reviews;
  }

  get port(): number {
    return (this.#server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((e: unknown) => this.#fail(res, e));
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 0; // event streams stay open; bodies are small and limited
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, this.#options.host, () => resolve());
    });
  }

  async stop(): Promise<void> {
    for (const res of this.#streams) res.end();
    this.#streams.clear();
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #fail(res: ServerResponse, e: unknown): void {
    const status =
      e instanceof HttpError
        ? e.status
        : isForbidden(e)
          ? 403
          : isNotFound(e)
            ? 404
            : e instanceof KubeApiError
              ? e.code
              : 500;
    if (status >= 500) this.#deps.logger.error('request failed', { error: String(e) });
    if (res.headersSent) {
      res.end();
      return;
    }
    this.#json(res, status, { error: e instanceof Error ? e.message : String(e) });
  }

  #json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/healthz') return this.#json(res, 200, { ok: true });
    if (!path.startsWith('/api/')) return this.#static(res, path);
    if (path === '/api/openapi.json') return this.#json(res, 200, openApiDocument(this.#options.version));
    if (path === '/api/login' && method === 'POST') return this.#login(req, res);
    if (path === '/api/login-options' && method === 'GET')
      return this.#json(res, 200, {
        password: this.#options.admin !== undefined,
        oidc: this.#deps.oidc !== undefined,
      });
    if (path === '/api/oidc/login' && method === 'GET') return this.#oidcStart(res);
    if (path === '/api/oidc/callback' && method === 'GET') return this.#oidcFinish(req, res, url);
    if (path.startsWith('/api/badge/') && method === 'GET') return this.#badge(res, path);
    if (path === '/api/logout' && method === 'POST') {
      res.writeHead(204, {
        ...SECURITY_HEADERS,
        'Set-Cookie': sessionCookie('', 0, this.#options.secureCookies),
      });
      res.end();
      return;
    }

    const caller = await this.#authenticate(req);
    if (!caller) throw new HttpError(401, 'not logged in');
    if (method !== 'GET' && method !== 'HEAD' && caller.csrf !== undefined) {
      const given = req.headers[CSRF_HEADER];
      if (typeof given !== 'string' || !sameSecret(given, caller.csrf))
        throw new HttpError(403, 'missing or wrong X-CSRF-Token');
    }
    const { person } = caller;
    if (path === '/api/session' && method === 'GET')
      return this.#json(res, 200, { user: person.user, groups: person.groups, csrf: caller.csrf ?? null });
    if (path === '/api/events' && method === 'GET') return this.#events(req, res, person);
    if (path === '/api/applications' && method === 'GET') {
      const visible = await this.#visibleApplications(person);
      const page = queryApplications(visible, parseApplicationQuery(url.searchParams));
      const body = {
        apiVersion: 'v1',
        kind: 'List',
        items: page.items,
        metadata: { total: page.total, page: page.page, pageSize: page.pageSize },
        counts: page.counts,
        namespaces: page.namespaces,
      };
      // What the list costs here, authentication and review included: the benchmark reads it.
      const ms = performance.now() - started;
      return this.#json(res, 200, body, { 'Server-Timing': `list;dur=${ms.toFixed(2)}` });
    }
    const m = /^\/api\/applications\/([^/]+)\/([^/]+)(?:\/([a-z]+))?$/.exec(path);
    if (!m) throw new HttpError(404, `no route ${method} ${path}`);
    const namespace = decodeURIComponent(m[1]!);
    const name = decodeURIComponent(m[2]!);
    const part = m[3];
    if (method === 'GET' && (part === undefined || APP_VIEWS.has(part))) {
      await this.#require(person, { verb: 'get', group: GROUP, resource: 'applications', namespace, name });
      const app = this.#application(namespace, name);
      if (part === undefined) return this.#json(res, 200, app);
      if (part === 'history')
        return this.#json(res, 200, {
          application: name,
          namespace,
          pinnedRevision: app.spec.source.pinnedRevision ?? null,
          history: app.status?.history ?? [],
        });
      // The person's own rights decide which live objects they may read.
      if (part === 'tree') return this.#json(res, 200, await applicationTree(this.#as(person), app));
      return this.#json(res, 200, await this.#diff(app));
    }
    if (method === 'POST' && part !== undefined && APP_ACTIONS.has(part)) {
      const body = await this.#body(req);
      return this.#json(res, 200, await this.#act(person, namespace, name, part, body));
    }
    throw new HttpError(405, `${method} ${path} is not allowed`);
  }

  async #act(person: Person, namespace: string, name: string, action: string, body: Record<string, unknown>) {
    await this.#require(person, { verb: 'patch', group: GROUP, resource: 'applications', namespace, name });
    const app = this.#application(namespace, name);
    const client = this.#as(person);
    if (action === 'refresh') {
      const ref = app.spec.source.repositoryRef;
      const repoNamespace = ref.namespace ?? namespace;
      await this.#require(person, {
        verb: 'patch',
        group: GROUP,
        resource: 'gitrepositories',
        namespace: repoNamespace,
      });
      await requestFetch(client, repoNamespace, ref.name);
      return app;
    }
    if (action === 'suspend') return patchApplication(client, app, { spec: { suspend: true } });
    if (action === 'resume') {
      await setPin(client, app, undefined);
      return patchApplication(client, app, { spec: { suspend: null } });
    }
    if (app.spec.suspend) throw new HttpError(409, `${name} is suspended: resume it first`);
    if (action === 'rollback') {
      const entry = app.status?.history?.find((h) => h.id === body.id);
      if (!entry) throw new HttpError(404, `${name} has no history entry ${String(body.id)}`);
      await setPin(client, app, entry.revision);
    }
    await requestReconcile(client, app);
    return this.#application(namespace, name);
  }

  async #diff(app: Application) {
    const ref = app.spec.source.repositoryRef;
    const repoNamespace = ref.namespace ?? app.metadata.namespace ?? '';
    const diffAs = this.#options.diffAs;
    const client = diffAs ? this.#deps.client.impersonating(diffAs, []) : this.#deps.client;
    const repo = await client.get<GitRepository & KubeObject>(repositoryRef(repoNamespace, ref.name));
    const artifact = await checkout(client, app, repo, undefined, {
      ...(this.#options.gitCacheDir ? { cacheDir: this.#options.gitCacheDir } : {}),
      allowHttp: this.#options.allowHttpGit,
    });
    return applicationDiff(client, app, artifact.dir, artifact.commit);
  }

  #as(person: Person): KubeClient {
    return this.#deps.client.impersonating(person.user, person.groups);
  }

  #application(namespace: string, name: string): Application {
    const app = this.#deps.applications.get(applicationKey(namespace, name));
    if (!app) throw new HttpError(404, `Application ${namespace}/${name} not found`);
    return { ...app, apiVersion: API_VERSION, kind: 'Application' };
  }

  async #require(person: Person, q: AccessQuestion): Promise<void> {
    if (!(await this.#access.allowed(person, q)))
      throw new HttpError(
        403,
        `${person.user} may not ${q.verb} ${q.resource}${q.name ? ` ${q.name}` : ''} in namespace ${q.namespace ?? '(all)'}`,
      );
  }

  /** May this person list Applications in a namespace? One review covers every namespace when allowed there. */
  async #canList(person: Person, namespace: string): Promise<boolean> {
    const q = { verb: 'list', group: GROUP, resource: 'applications' };
    return (await this.#access.allowed(person, q)) || this.#access.allowed(person, { ...q, namespace });
  }

  async #visibleApplications(person: Person): Promise<Application[]> {
    const all = this.#deps.applications.list();
    if (await this.#access.allowed(person, { verb: 'list', group: GROUP, resource: 'applications' }))
      return all.map((a) => ({ ...a, apiVersion: API_VERSION, kind: 'Application' }));
    const namespaces = [...new Set(all.map((a) => a.metadata.namespace ?? ''))];
    const allowed = new Set(
      (
        await Promise.all(namespaces.map(async (ns) => ((await this.#canList(person, ns)) ? ns : undefined)))
      ).filter((ns): ns is string => ns !== undefined),
    );
    return all
      .filter((a) => allowed.has(a.metadata.namespace ?? ''))
      .map((a) => ({ ...a, apiVersion: API_VERSION, kind: 'Application' }));
  }

  async #authenticate(req: IncomingMessage): Promise<Caller | undefined> {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) {
      const person = await this.#reviewToken(auth.slice(7).trim());
      return person ? { person } : undefined;
    }
    const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!cookie) return undefined;
    const session = verifySession(cookie, this.#options.sessionKey, this.#deps.now());
    return session
      ? { person: { user: session.user, groups: session.groups }, csrf: session.csrf }
      : undefined;
  }

  #reviewToken(token: string): Promise<Person | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.#deps.now();
    const hit = this.#tokens.get(key);
    if (hit && now - hit.at < 10_000) return hit.person;
    const person = reviewToken(this.#deps.client, token);
    person.catch(() => this.#tokens.delete(key));
    this.#tokens.set(key, { at: now, person });
    if (this.#tokens.size > 10_000) this.#tokens.delete(this.#tokens.keys().next().value!);
    return person;
  }

  async #login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#logins.allow(req.socket.remoteAddress ?? '', this.#deps.now()))
      throw new HttpError(429, 'too many login attempts: wait a minute');
    const body = await this.#body(req);
    let person: Person | undefined;
    if (typeof body.token === 'string' && body.token) {
      person = await reviewToken(this.#deps.client, body.token);
    } else if (
      typeof body.username === 'string' &&
      typeof body.password === 'string' &&
      this.#options.admin
    ) {
      person = await checkAdminPassword(this.#deps.client, this.#options.admin, body.username, body.password);
    }
    if (!person) throw new HttpError(401, 'wrong credentials');
    this.#startSession(res, person);
  }

  #startSession(res: ServerResponse, person: Person, redirect?: string): void {
    const session = newSession(person, this.#deps.now(), this.#options.sessionTtlMs);
    const cookie = sessionCookie(
      signSession(session, this.#options.sessionKey),
      Math.floor(this.#options.sessionTtlMs / 1000),
      this.#options.secureCookies,
    );
    this.#deps.logger.info('login', { user: person.user });
    if (redirect) {
      // A page of our own that moves on, rather than a redirect: the provider's redirect chain is
      // cross-site, and a SameSite=Strict cookie is only sent once a navigation starts here.
      const page = `<!doctype html><meta http-equiv="refresh" content="0;url=${redirect}"><title>Cairn</title><p>Logged in.</p>`;
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Set-Cookie': cookie,
      });
      res.end(page);
      return;
    }
    this.#json(
      res,
      200,
      { user: session.user, groups: session.groups, csrf: session.csrf },
      { 'Set-Cookie': cookie },
    );
  }

  async #oidcStart(res: ServerResponse): Promise<void> {
    if (!this.#deps.oidc) throw new HttpError(404, 'OpenID Connect login is not configured');
    const state = randomBytes(18).toString('base64url');
    this.#oidcStates.set(state, this.#deps.now());
    res.writeHead(302, { ...SECURITY_HEADERS, Location: await this.#deps.oidc.start(state) });
    res.end();
  }

  async #oidcFinish(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!this.#deps.oidc) throw new HttpError(404, 'OpenID Connect login is not configured');
    if (!this.#logins.allow(req.socket.remoteAddress ?? '', this.#deps.now()))
      throw new HttpError(429, 'too many login attempts: wait a minute');
    const state = url.searchParams.get('state') ?? '';
    const at = this.#oidcStates.get(state);
    this.#oidcStates.delete(state);
    if (at === undefined || this.#deps.now() - at > 600_000)
      throw new HttpError(400, 'unknown or expired login state');
    this.#startSession(res, await this.#deps.oidc.finish(url.searchParams, state), '/');
  }

  #badge(res: ServerResponse, path: string): void {
    const m = /^\/api\/badge\/([^/]+)\/([^/]+?)(?:\.svg)?$/.exec(path);
    const app =
      m && this.#options.badges
        ? this.#deps.applications.get(applicationKey(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)))
        : undefined;
    if (!app) throw new HttpError(404, 'no badge');
    const svg = statusBadge(syncOf(app), healthOf(app));
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'image/svg+xml', 'Cache-Control': 'no-cache' });
    res.end(svg);
  }

  #events(req: IncomingMessage, res: ServerResponse, person: Person): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    this.#streams.add(res);
    // Events go out in order: each waits for the review of the one before it.
    let chain = Promise.resolve();
    const unsubscribe = this.#deps.applications.onEvent((e: InformerEvent<Application>) => {
      chain = chain.then(async () => {
        const namespace = e.object.metadata.namespace ?? '';
        if (!(await this.#canList(person, namespace).catch(() => false))) return;
        const object = { ...e.object, apiVersion: API_VERSION, kind: 'Application' };
        res.write(`event: application\ndata: ${JSON.stringify({ type: e.type, object })}\n\n`);
      });
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const close = () => {
      clearInterval(heartbeat);
      unsubscribe();
      this.#streams.delete(res);
    };
    req.on('close', close);
    res.on('close', close);
  }

  async #body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.#options.bodyLimitBytes) throw new HttpError(413, 'request body too large');
      chunks.push(chunk);
    }
    if (size === 0) return {};
    try {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        return parsed as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw new HttpError(400, 'the body must be a JSON object');
  }

  /** The UI's files; any other path is the UI's index, so deep links load the app. */
  async #static(res: ServerResponse, path: string): Promise<void> {
    const root = this.#options.uiDir;
    if (!root) throw new HttpError(404, 'this server has no UI');
    const file = normalize(join(root, decodeURIComponent(path)));
    const inside = file.startsWith(root.endsWith(sep) ? root : root + sep);
    const isFile = inside && (await stat(file).catch(() => undefined))?.isFile();
    const target = isFile ? file : join(root, 'index.html');
    const body = await readFile(target).catch(() => undefined);
    if (!body) throw new HttpError(404, 'the UI is not built (npm run build:ui)');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': MIME[extname(target)] ?? 'application/octet-stream',
      'Cache-Control': target.includes(`${sep}assets${sep}`)
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
      'Content-Length': String(body.length),
    });
    res.end(body);
  }
}

/** Where the built UI is: beside the compiled server, or built from a checkout. */
export async function defaultUiDir(): Promise<string | undefined> {
  for (const relative of ['../../ui', '../../../dist/ui']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if ((await stat(join(dir, 'index.html')).catch(() => undefined))?.isFile()) return dir;
  }
  return undefined;
}

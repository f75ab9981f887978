// The controller's HTTP listener: liveness and readiness probes, Prometheus metrics, and the
// webhook receivers. It holds no Kubernetes logic: the controller hands it a metrics source, a
// readiness check and a directory that maps a webhook token to a Receiver.
//
// Webhook requests are unauthenticated until verified, so the order is: method, token lookup (an
// unknown path reads no body), size limit (413 without reading further), verification (401
// without a callback), then the callback. Slow senders are cut off by the request timeouts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  AUTHENTICATION_FAILURES,
  VerifyReason,
  verifyWebhook,
  webhookToken,
  type ReceiverSpec,
  type Verification,
} from '../notify/receivers.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../record/metrics.ts';
import type { Logger } from '../log.ts';

export const HOOK_PATH_PREFIX = '/hook/';

/** What the directory knows about the Receiver a webhook token belongs to. */
export interface HookTarget extends ReceiverSpec {
  /** `namespace/name` of the Receiver, for logs. */
  ref?: string;
  /** Called once per accepted delivery that asks for a refresh; the 202 waits for it. */
  onAccepted(verification: Verification): Promise<void>;
}

export interface ReceiverDirectory {
  /** The Receiver whose webhook token this is, if any. */
  find(token: string): Promise<HookTarget | undefined>;
}

export interface ListenerDeps {
  logger: Logger;
  metrics: { render(): string };
  /** Readiness: true once the caches have synced. */
  ready(): boolean | Promise<boolean>;
  receivers: ReceiverDirectory;
}

export interface ListenerOptions {
  port: number;
  /** Address to bind; undefined means every interface (dual-stack where the host has IPv6). */
  host: string | undefined;
  /** Largest webhook body accepted; beyond it, 413. */
  bodyLimitBytes: number;
  /** Time allowed to receive a request's headers. */
  headersTimeoutMs: number;
  /** Time allowed to receive a whole request, body included. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs: number;
  /** How often the two timeouts above are checked (Node.js checks every 30 s by default). */
  timeoutCheckIntervalMs: number;
  maxHeaderBytes: number;
  maxConnections: number;
  /** On stop, how long requests under way may finish before their sockets are closed. */
  shutdownGraceMs: number;
}

export function defaultListenerOptions(): ListenerOptions {
  return {
    port: 8080,
    host: undefined,
    bodyLimitBytes: 1024 * 1024,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    timeoutCheckIntervalMs: 1_000,
    maxHeaderBytes: 16 * 1024,
    maxConnections: 512,
    shutdownGraceMs: 5_000,
  };
}

/** The path of a Receiver's webhook, for its `status.webhookPath`. */
export function webhookPath(receiver: { namespace: string; name: string }, secret: string): string {
  return `${HOOK_PATH_PREFIX}${webhookToken(receiver, secret)}`;
}

const TOKEN = /^[0-9a-f]{64}$/;
const GET_METHODS = ['GET', 'HEAD'];

interface Reply {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Close the connection after replying: the request body was not (fully) read. */
  close?: boolean;
}

const text = (status: number, body: string, extra: Omit<Reply, 'status' | 'body'> = {}): Reply => ({
  status,
  body: `${body}\n`,
  ...extra,
});

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

const TOO_LARGE = Symbol('too large');

/** Reads the body up to `limit` bytes; past it, stops reading and leaves the rest unread. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | typeof TOO_LARGE> {
  return new Promise((resolve, reject) => {
    // The sender may have gone while the Receiver was looked up: its 'close' has been and gone.
    if (req.destroyed) {
      reject(new Error('the connection closed before the body was read'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the connection closed before the body was complete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function checkOptions(o: ListenerOptions): void {
  const positive: (keyof ListenerOptions)[] = [
    'bodyLimitBytes',
    'headersTimeoutMs',
    'requestTimeoutMs',
    'keepAliveTimeoutMs',
    'timeoutCheckIntervalMs',
    'maxHeaderBytes',
    'maxConnections',
  ];
  for (const key of positive) {
    const value = o[key];
    if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`listener: ${key} must be positive`);
  }
  if (o.headersTimeoutMs > o.requestTimeoutMs) {
    throw new RangeError('listener: headersTimeoutMs must not exceed requestTimeoutMs');
  }
}

/**
 * The controller's HTTP server: `GET /healthz`, `GET /readyz`, `GET /metrics`,
 * `POST /hook/<token>`. Start and stop it; nothing runs at import.
 */
export class Listener {
  readonly #deps: ListenerDeps;
  readonly #options: ListenerOptions;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(deps: ListenerDeps, options: Partial<ListenerOptions> = {}) {
    this.#deps = deps;
    this.#options = { ...defaultListenerOptions(), ...options };
    checkOptions(this.#options);
  }

  /** Binds and listens; resolves with the bound address (port 0 picks a free port). */
  async start(): Promise<AddressInfo> {
    if (this.#server) throw new Error('listener: already started');
    const o = this.#options;
    const server = createServer(
      {
        headersTimeout: o.headersTimeoutMs,
        requestTimeout: o.requestTimeoutMs,
        keepAliveTimeout: o.keepAliveTimeoutMs,
        connectionsCheckingInterval: o.timeoutCheckIntervalMs,
        maxHeaderSize: o.maxHeaderBytes,
      },
      (req, res) => this.#dispatch(req, res, false),
    );
    server.maxConnections = o.maxConnections;
    // Without this listener Node answers `Expect: 100-continue` itself before we could refuse.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.#dispatch(req, res, true));
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: o.port, ...(o.host === undefined ? {} : { host: o.host }) }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      this.#server = undefined;
      throw new Error(`listener: cannot listen on ${o.host ?? '*'}:${o.port}`, { cause: e });
    }
    server.on('error', (e: Error) => this.#deps.logger.error('listener: server error', { error: e.message }));
    const address = server.address() as AddressInfo;
    this.#deps.logger.info('listener: serving', { address: address.address, port: address.port });
    return address;
  }

  /**
   * Stops accepting, lets requests under way finish for `shutdownGraceMs`, then closes every
   * socket that is left. Resolves once the server is closed.
   */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const socket of this.#sockets) socket.destroy();
    }, this.#options.shutdownGraceMs);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
    }
  }

  #dispatch(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    void this.#respond(req, res, expectContinue);
  }

  /** Never rejects: no request, however malformed, may take the process down. */
  async #respond(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.#route(req, res, expectContinue);
    } catch (e) {
      this.#deps.logger.error('listener: request failed', {
        error: e instanceof Error ? e.message : String(e),
      });
      reply = text(500, 'internal error', { close: true });
    }
    try {
      this.#send(res, reply);
    } catch (e) {
      this.#deps.logger.error('listener: cannot reply', {
        error: e instanceof Error ? e.message : String(e),
      });
      res.destroy();
    }
  }

  #send(res: ServerResponse, reply: Reply): void {
    if (res.headersSent || res.writableEnded || res.destroyed) return;
    const body = Buffer.from(reply.body);
    res.writeHead(reply.status, {
      'content-type': reply.contentType ?? 'text/plain; charset=utf-8',
      'content-length': String(body.length),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...(reply.close ? { connection: 'close' } : {}),
      ...reply.headers,
    });
    res.end(body);
  }

  async #route(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<Reply> {
    const url = req.url ?? '';
    const path = url.split('?', 1)[0] ?? '';
    const close = hasBody(req);
    const getOnly = (): Reply | undefined =>
      GET_METHODS.includes(req.method ?? '')
        ? undefined
        : text(405, 'method not allowed', { headers: { allow: GET_METHODS.join(', ') }, close });

    switch (path) {
      case '/healthz':
        return getOnly() ?? text(200, 'ok', { close });
      case '/readyz':
        return getOnly() ?? (await this.#readiness(close));
      case '/metrics':
        return (
          getOnly() ?? {
            status: 200,
            body: this.#deps.metrics.render(),
            contentType: PROMETHEUS_CONTENT_TYPE,
            close,
          }
        );
    }
    if (path.startsWith(HOOK_PATH_PREFIX)) {
      return this.#hook(req, res, path.slice(HOOK_PATH_PREFIX.length), expectContinue);
    }
    this.#deps.logger.debug('listener: no such path', { method: req.method });
    return text(404, 'not found', { close });
  }

  async #readiness(close: boolean): Promise<Reply> {
    try {
      if (await this.#deps.ready()) return text(200, 'ok', { close });
    } catch (e) {
      this.#deps.logger.warn('listener: readiness check failed', {
        error: e instanceof Error ? e.message : String(e),
      });
    }
    return text(503, 'not ready', { close });
  }

  async #hook(
    req: IncomingMessage,
    res: ServerResponse,
    token: string,
    expectContinue: boolean,
  ): Promise<Reply> {
    // Until the body has been read to its end, any reply closes the connection: the rest of the
    // body is never read.
    if (req.method !== 'POST') {
      return text(405, 'method not allowed', { headers: { allow: 'POST' }, close: hasBody(req) });
    }
    const target = TOKEN.test(token) ? await this.#deps.receivers.find(token) : undefined;
    if (!target) {
      this.#deps.logger.debug('listener: webhook for an unknown token');
      return text(404, 'not found', { close: true });
    }
    const receiver = target.ref ?? '(unnamed)';
    const limit = this.#options.bodyLimitBytes;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      this.#deps.logger.warn('listener: webhook body over the limit', { receiver, limit });
      return text(413, 'payload too large', { close: true });
    }
    if (expectContinue) res.writeContinue();
    const body = await readBody(req, limit);
    if (body === TOO_LARGE) {
      this.#deps.logger.warn('listener: webhook body over the limit', { receiver, limit });
      return text(413, 'payload too large', { close: true });
    }

    const verification = verifyWebhook(target, { headers: req.headers, body });
    const fields = { receiver, type: target.type, reason: verification.reason, event: verification.event };
    if (!verification.accepted) {
      if (AUTHENTICATION_FAILURES.has(verification.reason)) {
        this.#deps.logger.warn('listener: webhook refused', fields);
        return text(401, verification.reason);
      }
      if (
        verification.reason === VerifyReason.NoSecret ||
        verification.reason === VerifyReason.UnsupportedType
      ) {
        this.#deps.logger.error('listener: receiver cannot verify webhooks', fields);
        return text(500, 'receiver misconfigured');
      }
      this.#deps.logger.info('listener: webhook event ignored', fields);
      return text(400, verification.reason);
    }
    if (!verification.refresh) {
      this.#deps.logger.info('listener: webhook ping', fields);
      return text(200, 'ok');
    }
    await target.onAccepted(verification);
    this.#deps.logger.info('listener: webhook accepted', fields);
    return text(202, 'accepted');
  }
}

// The controller's listener on 127.0.0.1: probes, metrics, webhooks, limits, timeouts, shutdown.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import type { Verification } from '../../src/notify/receivers.ts';
import {
  ControllerMetrics,
  ReconcileResult,
  type ProcessProbe,
} from '../../src/record/controller-metrics.ts';
import {
  Listener,
  defaultListenerOptions,
  webhookPath,
  type HookTarget,
  type ListenerDeps,
  type ListenerOptions,
} from '../../src/server/listener.ts';
import type { LogFields, Logger } from '../../src/log.ts';

const SECRET = 'hook-secret-7f3a';
const BODY = '{"ref":"refs/heads/main","marker":"BODY-MARKER-91c2"}';
const sign = (body: string | Buffer, key = SECRET): string =>
  `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;

const probe: ProcessProbe = {
  cpuSeconds: () => 1,
  residentMemoryBytes: () => 2,
  startTimeSeconds: () => 3,
  heapUsedBytes: () => 4,
  heapTotalBytes: () => 5,
};

interface Recorded {
  level: string;
  msg: string;
  fields?: LogFields;
}

function recordingLogger(into: Recorded[]): Logger {
  const at =
    (level: string) =>
    (msg: string, fields?: LogFields): void => {
      into.push({ level, msg, ...(fields ? { fields } : {}) });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

interface Receiver {
  path: string;
  accepted: Verification[];
}

/** A listener on 127.0.0.1 with three Receivers (github, gitlab, generic-hmac) and a recorded log. */
async function withListener(
  options: Partial<ListenerOptions>,
  fn: (ctx: {
    port: number;
    hooks: Record<'github' | 'gitlab' | 'generic' | 'failing', Receiver>;
    finds: string[];
    logs: Recorded[];
    setReady: (ready: boolean | Error) => void;
    metrics: ControllerMetrics;
    listener: Listener;
  }) => Promise<void>,
): Promise<void> {
  const logs: Recorded[] = [];
  const finds: string[] = [];
  let ready: boolean | Error = false;
  const metrics = new ControllerMetrics(probe);
  const targets = new Map<string, HookTarget>();
  const hooks = {} as Record<'github' | 'gitlab' | 'generic' | 'failing', Receiver>;
  const add = (key: keyof typeof hooks, type: HookTarget['type'], fail = false): void => {
    const path = webhookPath({ namespace: 'ci', name: key }, SECRET);
    const receiver: Receiver = { path, accepted: [] };
    hooks[key] = receiver;
    targets.set(path.slice('/hook/'.length), {
      type,
      secret: SECRET,
      ref: `ci/${key}`,
      onAccepted: (v) => {
        receiver.accepted.push(v);
        return fail ? Promise.reject(new Error('queue is closed')) : Promise.resolve();
      },
    });
  };
  add('github', 'github');
  add('gitlab', 'gitlab');
  add('generic', 'generic-hmac');
  add('failing', 'generic-hmac', true);
  const deps: ListenerDeps = {
    logger: recordingLogger(logs),
    metrics,
    ready: () => {
      if (ready instanceof Error) throw ready;
      return ready;
    },
    receivers: {
      find: (token) => {
        finds.push(token);
        if (token === '0'.repeat(64)) return Promise.reject(new Error('cache not synced'));
        return Promise.resolve(targets.get(token));
      },
    },
  };
  const listener = new Listener(deps, { ...options, host: '127.0.0.1', port: 0 });
  const { port } = await listener.start();
  try {
    await fn({ port, hooks, finds, logs, setReady: (r) => (ready = r), metrics, listener });
  } finally {
    await listener.stop();
  }
  // Nothing a sender controls, and no secret, ever reaches the log.
  const logged = JSON.stringify(logs);
  for (const secret of [SECRET, 'BODY-MARKER', ...Object.values(hooks).map((h) => h.path.slice(6))]) {
    assert.ok(!logged.includes(secret), `the log holds ${secret}`);
  }
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  port: number,
  method: string,
  path: string,
  headers: OutgoingHttpHeaders = {},
  body?: string | Buffer,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const push = (port: number, path: string, signature = sign(BODY), event = 'push'): Promise<Response> =>
  send(port, 'POST', path, { 'x-hub-signature-256': signature, 'x-github-event': event }, BODY);

/** Writes `data` on a raw socket, then collects what comes back until the server closes it. */
function raw(
  port: number,
  data: string,
  limitMs: number,
): Promise<{ response: string; closedByServer: boolean; elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host: '127.0.0.1', port });
    let response = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ response, closedByServer: false, elapsedMs: performance.now() - started });
    }, limitMs);
    socket.on('data', (d: Buffer) => (response += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ response, closedByServer: true, elapsedMs: performance.now() - started });
    });
    socket.write(data);
  });
}

test('the defaults: port 8080, 1 MiB bodies, headers within 10 s, requests within 30 s', () => {
  const d = defaultListenerOptions();
  assert.equal(d.port, 8080);
  assert.equal(d.bodyLimitBytes, 1024 * 1024);
  assert.equal(d.headersTimeoutMs, 10_000);
  assert.equal(d.requestTimeoutMs, 30_000);
  assert.ok(d.timeoutCheckIntervalMs <= 1_000, 'timeouts are checked often enough to be near their value');
  assert.throws(
    () => new Listener({} as ListenerDeps, { headersTimeoutMs: 5, requestTimeoutMs: 1 }),
    /exceed/,
  );
  assert.throws(() => new Listener({} as ListenerDeps, { bodyLimitBytes: 0 }), /bodyLimitBytes/);
});

test('the webhook path is /hook/ and the Receiver token', () => {
  assert.match(webhookPath({ namespace: 'ci', name: 'github' }, SECRET), /^\/hook\/[0-9a-f]{64}$/);
});

test('healthz answers; probes refuse other methods', { timeout: 15_000 }, async () => {
  await withListener({}, async ({ port }) => {
    const ok = await send(port, 'GET', '/healthz');
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'ok\n');
    const head = await send(port, 'HEAD', '/healthz');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const post = await send(port, 'POST', '/healthz', {}, 'x');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((await send(port, 'GET', '/nope')).status, 404);
    assert.equal((await send(port, 'GET', '/healthz/')).status, 404);
  });
});

test('readyz is 503 until ready() says so, and 503 again when it throws', { timeout: 15_000 }, async () => {
  await withListener({}, async ({ port, setReady, logs }) => {
    const before = await send(port, 'GET', '/readyz');
    assert.equal(before.status, 503);
    assert.equal(before.body, 'not ready\n');
    setReady(true);
    assert.equal((await send(port, 'GET', '/readyz')).status, 200);
    setReady(new Error('informer stalled'));
    assert.equal((await send(port, 'GET', '/readyz')).status, 503);
    assert.ok(logs.some((l) => l.level === 'warn' && l.fields?.error === 'informer stalled'));
  });
});

test('metrics are the registry rendered, as text format 0.0.4', { timeout: 15_000 }, async () => {
  await withListener({}, async ({ port, metrics }) => {
    metrics.recordReconcile('Application', ReconcileResult.Success, 0.5);
    const res = await send(port, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(res.body, metrics.render());
    assert.ok(
      res.body.includes('cairn_reconcile_duration_seconds_count{kind="Application",result="success"} 1\n'),
    );
    assert.ok(res.body.includes('\nprocess_cpu_seconds_total 1\n'));
    assert.equal((await send(port, 'POST', '/metrics')).status, 405);
  });
});

test(
  'a signed push is 202 and calls back exactly once; each delivery calls back once',
  { timeout: 15_000 },
  async () => {
    await withListener({}, async ({ port, hooks }) => {
      const res = await push(port, hooks.github.path);
      assert.equal(res.status, 202);
      assert.equal(hooks.github.accepted.length, 1);
      assert.equal(hooks.github.accepted[0]?.event, 'push');
      const many = await Promise.all(Array.from({ length: 20 }, () => push(port, hooks.github.path)));
      assert.deepEqual(new Set(many.map((r) => r.status)), new Set([202]));
      assert.equal(hooks.github.accepted.length, 21);
      assert.equal(
        hooks.gitlab.accepted.length + hooks.generic.accepted.length,
        0,
        'no other Receiver fired',
      );
    });
  },
);

test('bad, missing or foreign signatures are 401 and call nothing back', { timeout: 15_000 }, async () => {
  await withListener({}, async ({ port, hooks, logs }) => {
    const wrongKey = await push(port, hooks.github.path, sign(BODY, 'guess'));
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.body, 'bad-signature\n');
    const otherBody = await push(port, hooks.github.path, sign('{}'));
    assert.equal(otherBody.status, 401);
    const none = await send(port, 'POST', hooks.github.path, { 'x-github-event': 'push' }, BODY);
    assert.equal(none.status, 401);
    assert.equal(none.body, 'missing-signature\n');
    const gitlab = await send(port, 'POST', hooks.gitlab.path, {
      'x-gitlab-token': 'guess',
      'x-gitlab-event': 'Push Hook',
    });
    assert.equal(gitlab.status, 401);
    const generic = await send(port, 'POST', hooks.generic.path, { 'x-signature': sign('other') }, BODY);
    assert.equal(generic.status, 401);
    assert.equal(
      hooks.github.accepted.length + hooks.gitlab.accepted.length + hooks.generic.accepted.length,
      0,
    );
    assert.equal(logs.filter((l) => l.msg === 'listener: webhook refused').length, 5);
  });
});

test(
  'gitlab and generic-hmac deliveries are accepted with their own credentials',
  { timeout: 15_000 },
  async () => {
    await withListener({}, async ({ port, hooks }) => {
      const gitlab = await send(
        port,
        'POST',
        hooks.gitlab.path,
        { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Tag Push Hook' },
        BODY,
      );
      assert.equal(gitlab.status, 202);
      assert.equal(hooks.gitlab.accepted[0]?.event, 'Tag Push Hook');
      const generic = await send(port, 'POST', hooks.generic.path, { 'x-signature': sign(BODY) }, BODY);
      assert.equal(generic.status, 202);
      assert.equal(hooks.generic.accepted.length, 1);
      // A token for one Receiver is not a credential for another.
      const crossed = await send(port, 'POST', hooks.generic.path, { 'x-gitlab-token': SECRET }, BODY);
      assert.equal(crossed.status, 401);
      assert.equal(hooks.generic.accepted.length, 1);
    });
  },
);

test(
  'a ping is 200 without a callback; another event is 400 without a callback',
  { timeout: 15_000 },
  async () => {
    await withListener({}, async ({ port, hooks }) => {
      const ping = await push(port, hooks.github.path, sign(BODY), 'ping');
      assert.equal(ping.status, 200);
      const issues = await push(port, hooks.github.path, sign(BODY), 'issues');
      assert.equal(issues.status, 400);
      assert.equal(issues.body, 'ignored-event\n');
      assert.equal(hooks.github.accepted.length, 0);
    });
  },
);

test(
  'only POST reaches a hook; unknown and malformed tokens are 404 and malformed ones are not looked up',
  { timeout: 15_000 },
  async () => {
    await withListener({}, async ({ port, hooks, finds }) => {
      const get = await send(port, 'GET', hooks.github.path);
      assert.equal(get.status, 405);
      assert.equal(get.headers.allow, 'POST');
      assert.equal(finds.length, 0, 'the method is checked before the lookup');
      const unknown = await push(port, `/hook/${'a'.repeat(64)}`);
      assert.equal(unknown.status, 404);
      assert.deepEqual(finds, ['a'.repeat(64)]);
      for (const path of ['/hook/', '/hook/xyz', `/hook/${'A'.repeat(64)}`, `${hooks.github.path}/extra`]) {
        assert.equal((await push(port, path)).status, 404, path);
      }
      assert.equal(finds.length, 1);
      const withQuery = await push(port, `${hooks.github.path}?source=github`);
      assert.equal(withQuery.status, 202, 'a query string does not change the token');
    });
  },
);

test('a failing lookup or callback is 500 and the listener keeps serving', { timeout: 15_000 }, async () => {
  await withListener({}, async ({ port, hooks, logs }) => {
    assert.equal((await push(port, `/hook/${'0'.repeat(64)}`)).status, 500);
    const failing = await send(port, 'POST', hooks.failing.path, { 'x-signature': sign(BODY) }, BODY);
    assert.equal(failing.status, 500);
    assert.equal(hooks.failing.accepted.length, 1);
    assert.equal((await send(port, 'GET', '/healthz')).status, 200);
    assert.deepEqual(
      logs.filter((l) => l.level === 'error').map((l) => l.fields?.error),
      ['cache not synced', 'queue is closed'],
    );
  });
});

test('a body at the limit is read; one byte more is 413 and no callback', { timeout: 15_000 }, async () => {
  await withListener({ bodyLimitBytes: 1024 }, async ({ port, hooks }) => {
    const atLimit = Buffer.alloc(1024, 'a');
    const ok = await send(port, 'POST', hooks.generic.path, { 'x-signature': sign(atLimit) }, atLimit);
    assert.equal(ok.status, 202);
    const over = Buffer.alloc(1025, 'a');
    const tooLarge = await send(port, 'POST', hooks.generic.path, { 'x-signature': sign(over) }, over);
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.headers.connection, 'close');
    assert.equal(hooks.generic.accepted.length, 1);
  });
});

test(
  'a declared length over the default 1 MiB is 413 before any body is sent',
  { timeout: 15_000 },
  async () => {
    await withListener({}, async ({ port, hooks }) => {
      const { response, closedByServer, elapsedMs } = await raw(
        port,
        `POST ${hooks.generic.path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${1024 * 1024 + 1}\r\n\r\n`,
        5_000,
      );
      assert.match(response, /^HTTP\/1\.1 413 /);
      assert.ok(closedByServer, 'the server closes the connection instead of waiting for the body');
      assert.ok(elapsedMs < 2_000);
      assert.equal(hooks.generic.accepted.length, 0);
    });
  },
);

test(
  'with Expect: 100-continue an oversized body is refused before it is sent, a fitting one is read',
  { timeout: 15_000 },
  async () => {
    await withListener({ bodyLimitBytes: 1024 }, async ({ port, hooks }) => {
      const { response } = await raw(
        port,
        `POST ${hooks.generic.path} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4096\r\n\r\n`,
        2_000,
      );
      assert.match(response, /^HTTP\/1\.1 413 /);
      assert.ok(!response.includes('100 Continue'));
      const res = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: hooks.generic.path,
            agent: false,
            headers: {
              expect: '100-continue',
              'x-signature': sign(BODY),
              'content-length': Buffer.byteLength(BODY),
            },
          },
          (r) => {
            r.resume();
            resolve(r.statusCode ?? 0);
          },
        );
        req.on('continue', () => req.end(BODY));
        req.on('error', reject);
      });
      assert.equal(res, 202);
      assert.equal(hooks.generic.accepted.length, 1);
    });
  },
);

test(
  'an endless chunked body is cut off at the limit, not read to its end',
  { timeout: 15_000 },
  async () => {
    await withListener({ bodyLimitBytes: 64 * 1024 }, async ({ port, hooks }) => {
      const planned = 64 * 1024 * 1024;
      const result = await new Promise<{ written: number; response: string }>((resolve) => {
        const socket: Socket = connect({ host: '127.0.0.1', port });
        let response = '';
        let written = 0;
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          socket.destroy();
          resolve({ written, response });
        };
        socket.on('data', (d: Buffer) => (response += d.toString()));
        socket.on('error', finish);
        socket.on('close', finish);
        const chunk = Buffer.concat([
          Buffer.from('10000\r\n'),
          Buffer.alloc(0x10000, 'x'),
          Buffer.from('\r\n'),
        ]);
        const pump = (): void => {
          while (!done && written < planned) {
            written += 0x10000;
            if (!socket.write(chunk)) {
              socket.once('drain', pump);
              return;
            }
          }
        };
        socket.write(
          `POST ${hooks.generic.path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Signature: ${sign('x')}\r\n\r\n`,
        );
        pump();
      });
      assert.match(result.response, /^HTTP\/1\.1 413 /);
      assert.ok(
        result.written < planned / 2,
        `the sender got ${result.written} bytes out before being cut off`,
      );
      assert.equal(hooks.generic.accepted.length, 0);
    });
  },
);

test(
  'a sender that stalls in its headers or its body gets 408 within the timeouts',
  { timeout: 15_000 },
  async () => {
    const options = { headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckIntervalMs: 50 };
    await withListener(options, async ({ port, hooks }) => {
      const headers = await raw(port, `POST ${hooks.generic.path} HTTP/1.1\r\nHost: x\r\nX-Sig`, 5_000);
      assert.match(headers.response, /^HTTP\/1\.1 408 /);
      assert.ok(headers.closedByServer);
      assert.ok(
        headers.elapsedMs >= 250 && headers.elapsedMs < 2_000,
        `closed after ${headers.elapsedMs} ms`,
      );

      const body = await raw(
        port,
        `POST ${hooks.generic.path} HTTP/1.1\r\nHost: x\r\nX-Signature: ${sign(BODY)}\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY.slice(0, 10)}`,
        5_000,
      );
      assert.match(body.response, /^HTTP\/1\.1 408 /);
      assert.ok(body.closedByServer);
      assert.ok(body.elapsedMs >= 550 && body.elapsedMs < 2_500, `closed after ${body.elapsedMs} ms`);
      assert.equal(hooks.generic.accepted.length, 0);
    });
  },
);

test('a listener can be started again after stop, and not twice at once', { timeout: 15_000 }, async () => {
  const deps: ListenerDeps = {
    logger: recordingLogger([]),
    metrics: { render: () => '' },
    ready: () => true,
    receivers: { find: () => Promise.resolve(undefined) },
  };
  const listener = new Listener(deps, { host: '127.0.0.1', port: 0 });
  await listener.start();
  await assert.rejects(listener.start(), /already started/);
  await listener.stop();
  const { port } = await listener.start();
  assert.equal((await send(port, 'GET', '/readyz')).status, 200);
  await listener.stop();
  const taken = new Listener(deps, { host: '127.0.0.1', port });
  const blocker = new Listener(deps, { host: '127.0.0.1', port });
  await blocker.start();
  try {
    await assert.rejects(taken.start(), /cannot listen on 127\.0\.0\.1:\d+/);
  } finally {
    await blocker.stop();
  }
});

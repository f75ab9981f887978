// stop(): alone in its file, because it counts the process's open TCP handles.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { Listener } from '../../src/server/listener.ts';

const tcpHandles = (): number =>
  process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'TCPSocketWrap').length;

test(
  'stop() closes idle, half-sent and in-flight connections and leaves no open handle',
  { timeout: 10_000 },
  async () => {
    const baseline = tcpHandles();
    let release: () => void = () => {};
    const listener = new Listener(
      {
        logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
        metrics: { render: () => '' },
        // A readiness check that never answers keeps one request in flight.
        ready: () => new Promise<boolean>((resolve) => (release = () => resolve(true))),
        receivers: { find: () => Promise.resolve(undefined) },
      },
      { host: '127.0.0.1', port: 0, shutdownGraceMs: 200 },
    );
    const { port } = await listener.start();
    assert.ok(tcpHandles() > baseline, 'listening holds a handle');

    const closed = (s: Socket): Promise<void> => new Promise((resolve) => s.once('close', () => resolve()));
    const idle = connect({ host: '127.0.0.1', port });
    const idleAnswered = new Promise<void>((resolve) => idle.once('data', () => resolve()));
    idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await idleAnswered;
    const half = connect({ host: '127.0.0.1', port });
    half.write('GET /healthz HTTP/1.1\r\nHo');
    const inFlight = connect({ host: '127.0.0.1', port });
    inFlight.write('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
    const allClosed = Promise.all([idle, half, inFlight].map((s) => closed(s.on('error', () => {}))));
    await new Promise((r) => setTimeout(r, 100));

    const started = performance.now();
    await listener.stop();
    const elapsed = performance.now() - started;
    await allClosed;
    release();
    assert.ok(elapsed < 2_000, `stop took ${elapsed} ms`);
    // libuv releases a closed handle in the loop's close phase, a turn after the 'close' event.
    const deadline = performance.now() + 1_000;
    while (tcpHandles() !== baseline && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    assert.equal(tcpHandles(), baseline, 'no server or socket handle is left');
    await assert.rejects(get(port, '/healthz'), /ECONNREFUSED/);
    await listener.stop(); // a second stop is harmless
  },
);

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

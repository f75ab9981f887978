import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayRawUrl, mirrorName, parseGitUrl, redactUrls, UrlError, type UrlPolicy } from './url.ts';

const strict: UrlPolicy = { allowHttp: false, allowFile: false };
const open: UrlPolicy = { allowHttp: true, allowFile: true };

test('https, ssh and scp-like URLs are accepted; the key ignores case of host, credentials and trailing slashes', () => {
  const https = parseGitUrl('HTTPS://GitHub.com/Org/Repo.git/', strict);
  assert.equal(https.transport, 'https');
  assert.equal(https.fetchUrl, 'https://github.com/Org/Repo.git/');
  assert.equal(https.key, 'https://github.com/Org/Repo.git');
  assert.equal(parseGitUrl('https://github.com:443/Org/Repo.git', strict).key, https.key);
  assert.equal(parseGitUrl('https://u:p@github.com/Org/Repo.git', strict).key, https.key);
  assert.notEqual(
    parseGitUrl('https://github.com/org/repo.git', strict).key,
    https.key,
    'paths keep their case',
  );

  const ssh = parseGitUrl('ssh://git@Example.com:2222/srv/repo.git', strict);
  assert.deepEqual(
    [ssh.transport, ssh.fetchUrl, ssh.key],
    ['ssh', 'ssh://git@Example.com:2222/srv/repo.git', 'ssh://git@example.com:2222/srv/repo.git'],
  );
  assert.equal(
    parseGitUrl('ssh://git@example.com:22/srv/repo.git', strict).key,
    'ssh://git@example.com/srv/repo.git',
  );
  assert.equal(parseGitUrl('ssh://git@[::1]:2222/r.git', strict).key, 'ssh://git@[::1]:2222/r.git');

  const scp = parseGitUrl('git@github.com:org/repo.git', strict);
  assert.deepEqual(
    [scp.transport, scp.fetchUrl, scp.key],
    ['ssh', 'git@github.com:org/repo.git', 'ssh://git@github.com/~/org/repo.git'],
  );
  assert.equal(
    parseGitUrl('git@host:/srv/r.git', strict).key,
    parseGitUrl('ssh://git@host/srv/r.git', strict).key,
  );
});

test('user info of an https URL is taken out of the URL git sees, to travel out of band', () => {
  const url = parseGitUrl('https://deploy:s3cr%2Ft@git.example.com/r.git', strict);
  assert.deepEqual(url.embedded, { username: 'deploy', password: 's3cr/t' });
  assert.equal(url.fetchUrl, 'https://git.example.com/r.git');
  assert.equal(url.display, 'https://git.example.com/r.git');
  assert.ok(!JSON.stringify({ ...url, embedded: undefined }).includes('s3cr'));
  assert.deepEqual(parseGitUrl('https://tok3n@h.example/r.git', strict).embedded, {
    username: 'tok3n',
    password: '',
  });
});

test('http and file URLs only when the policy enables them', () => {
  assert.throws(
    () => parseGitUrl('http://127.0.0.1:8080/r.git', strict),
    /http:\/\/ is not enabled \(allowHttp\)/,
  );
  assert.equal(parseGitUrl('http://127.0.0.1:8080/r.git', open).transport, 'http');
  assert.throws(() => parseGitUrl('file:///etc', strict), /file:\/\/ is not enabled \(allowFile\)/);
  assert.equal(parseGitUrl('file:///srv/git/r.git', open).key, 'file:///srv/git/r.git');
  assert.throws(() => parseGitUrl('file://host/srv/r.git', open), /file:\/\/\/absolute\/path/);
  assert.throws(() => parseGitUrl('file:///srv/../etc', open), /"\.\."/);
});

test('option-looking, helper and unknown-scheme URLs are refused, saying why', () => {
  const refused: [string, RegExp][] = [
    ['', /is empty/],
    ['--upload-pack=touch /tmp/x', /starts with "-"/],
    ['-oProxyCommand=x', /starts with "-"/],
    ['ext::sh -c touch% /tmp/pwned', /remote helper "ext::" is not allowed/],
    ['ext::sh', /remote helper "ext::" is not allowed/],
    ['fd::3', /remote helper "fd::"/],
    ['git://example.com/r.git', /scheme "git" is not allowed/],
    ['ftp://example.com/r.git', /scheme "ftp" is not allowed/],
    ['ssh://-oProxyCommand=touch%20/tmp/pwn/x', /host "-oProxyCommand=touch%20" starts with "-"/],
    ['ssh://-oProxyCommand=x@host/r.git', /user "-oProxyCommand=x" starts with "-"/],
    ['ssh://user:pw@host/r.git', /has a password/],
    ['ssh://host:22x/r.git', /port "22x" is not a number/],
    ['ssh://host', /names no host and path/],
    ['ssh://host/', /names no repository path/],
    ['ssh://ho%73t/r.git', /is not a host name/],
    ['https://-host/r.git', /host "-host" starts with "-"/],
    ['https://host/', /names no repository path/],
    ['https://host/r.git?x=1', /query or fragment/],
    ['https://host/r.git#x', /query or fragment/],
    ['https://host/r\n.git', /control character/],
    ['-host:r.git', /starts with "-"/],
    ['git@-host:r.git', /host "-host" starts with "-"/],
    ['host:-r.git', /path starts with "-"/],
    ['/srv/git/r.git', /is not a URL/],
    ['./r.git', /is not a URL/],
    ['https://h.example/' + 'x'.repeat(2100), /longer than 2048/],
  ];
  for (const [url, reason] of refused) {
    assert.throws(
      () => parseGitUrl(url, open),
      (e: unknown) => e instanceof UrlError && reason.test(e.message),
      url,
    );
  }
});

test('redaction hides user info of http(s) URLs always, of other URLs when it holds a password', () => {
  assert.equal(
    redactUrls("fatal: unable to access 'https://deploy:s3cret@host/r.git/': 401"),
    "fatal: unable to access 'https://***@host/r.git/': 401",
  );
  assert.equal(redactUrls('https://ghp_token123@github.com/o/r'), 'https://***@github.com/o/r');
  assert.equal(redactUrls('HTTP://a:b@h/x and http://c:d@h/y'), 'HTTP://***@h/x and http://***@h/y');
  assert.equal(redactUrls('ssh://git@host/r.git'), 'ssh://git@host/r.git');
  assert.equal(redactUrls('ssh://git:pw@host/r.git'), 'ssh://***@host/r.git');
  assert.equal(redactUrls('https://u:pa/ss@host/r.git'), 'https://***@host/r.git');
  assert.equal(redactUrls('no url here: user:pass@host'), 'no url here: user:pass@host');
});

test('a raw URL in a message is redacted, with control characters escaped and length bounded', () => {
  assert.equal(displayRawUrl('https://u:p@h/\u0000x'), 'https://***@h/\\u0000x');
  assert.equal(displayRawUrl('x'.repeat(300)).length, 203);
});

test('mirror names are stable hex digests, different per key', () => {
  assert.match(mirrorName('https://github.com/o/r.git'), /^[0-9a-f]{40}$/);
  assert.equal(mirrorName('https://github.com/o/r.git'), mirrorName('https://github.com/o/r.git'));
  assert.notEqual(mirrorName('https://github.com/o/r.git'), mirrorName('https://github.com/o/r2.git'));
});

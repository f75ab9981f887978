// Certificates and kubeconfigs for a local control plane, made with the openssl CLI.
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Who a client certificate says it is: CN is the user, O the groups. */
export interface Identity {
  file: string;
  user: string;
  groups: string[];
}

export const ADMIN: Identity = { file: 'admin', user: 'cairn-admin', groups: ['system:masters'] };
/** A user with no rights until a test grants some: for authorization tests. */
export const RESTRICTED: Identity = { file: 'developer', user: 'developer', groups: ['cairn:developers'] };

const DAYS = '3650';

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (e) {
    const err = e as { stderr?: string; code?: string };
    if (err.code === 'ENOENT')
      throw new Error('openssl is not installed (it makes the test cluster certificates)', { cause: e });
    throw new Error(`openssl ${args[0]} failed: ${err.stderr ?? String(e)}`, { cause: e });
  }
}

async function issue(dir: string, name: string, subject: string, extensions: string): Promise<void> {
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-sha256',
      '-days',
      DAYS,
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-extfile',
      ext,
    ],
    dir,
  );
  await rm(join(dir, `${name}.csr`));
  await rm(ext);
}

const CLIENT =
  'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';

/** A CA, the API server's serving certificate, client certificates and the ServiceAccount key pair. */
export async function makePki(dir: string, identities: Identity[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-sha256',
      '-days',
      DAYS,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=cairn-test-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ],
    dir,
  );
  const sans = [
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
    'IP:127.0.0.1',
    'IP:10.96.0.1',
  ];
  await issue(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans.join(',')}\n`,
  );
  for (const id of identities) {
    const subject = id.groups.map((g) => `/O=${g}`).join('') + `/CN=${id.user}`;
    await issue(dir, id.file, subject, CLIENT);
  }
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], dir);
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  for (const f of ['ca.key', 'apiserver.key', 'sa.key', ...identities.map((i) => `${i.file}.key`)]) {
    await chmod(join(dir, f), 0o600);
  }
}

/** A kubeconfig with inline credentials for one identity. */
export async function writeKubeconfig(
  pkiDir: string,
  server: string,
  id: Identity,
  out: string,
): Promise<void> {
  const b64 = async (f: string) => (await readFile(join(pkiDir, f))).toString('base64');
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: cairn-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${await b64('ca.crt')}`,
    'users:',
    `- name: ${id.user}`,
    '  user:',
    `    client-certificate-data: ${await b64(`${id.file}.crt`)}`,
    `    client-key-data: ${await b64(`${id.file}.key`)}`,
    'contexts:',
    `- name: ${id.user}`,
    `  context: {cluster: cairn-test, user: ${id.user}}`,
    `current-context: ${id.user}`,
    '',
  ].join('\n');
  await writeFile(out, text, { mode: 0o600 });
}

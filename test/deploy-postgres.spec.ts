import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * deploy/k8s/postgres: the CloudNativePG Cluster, its backup ObjectStore and the daily
 * ScheduledBackup, checked offline. Every object is validated with the models of
 * @kubernetes-models/cloudnative-pg (in a child process: the package is ESM only), then the
 * properties an operator relies on are asserted.
 */
const folder = join(__dirname, '..', 'deploy', 'k8s', 'postgres');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, asserted below
  spec: any;
}

interface Validation {
  kind: string;
  name: string;
  errors: string[];
}

const read = (file: string): unknown => parse(readFileSync(join(folder, file), 'utf8'));
const kustomization = read('kustomization.yaml') as { resources: string[] };
// One object a file.
const objects = kustomization.resources.map((file) => read(file) as K8sObject);

function only(kind: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
}

/** Every [path, value] pair of a parsed document, depth first. */
function* entries(value: unknown, path = ''): Generator<[string, unknown]> {
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = `${path}.${key}`;
    yield [childPath, child];
    yield* entries(child, childPath);
  }
}

describe('deploy/k8s/postgres (CloudNativePG)', () => {
  it('lists every manifest of the folder in its kustomization, and nothing else', () => {
    const manifests = readdirSync(folder).filter(
      (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
    );
    expect([...kustomization.resources].sort()).toEqual(manifests.sort());
  });

  it('validates every object with @kubernetes-models/cloudnative-pg, unknown fields included', () => {
    const output = execFileSync(
      process.execPath,
      [join(__dirname, '..', 'scripts', 'lib', 'k8s-validate.mjs')],
      {
        input: JSON.stringify(objects),
        encoding: 'utf8',
      },
    );
    const report = JSON.parse(output) as Validation[];
    expect(report.map((r) => r.kind).sort()).toEqual(['Cluster', 'ObjectStore', 'ScheduledBackup']);
    for (const result of report) expect(result).toEqual({ ...result, errors: [] });
  });

  it('runs three instances of a pinned PostgreSQL 15+ image, spread over nodes', () => {
    const { metadata, spec } = only('Cluster');
    expect(metadata.name).toBe('dsg-postgres');
    expect(spec.instances).toBe(3);
    const tag = /^ghcr\.io\/cloudnative-pg\/postgresql:(\d+)\.(\d+)(-[a-z0-9.-]+)?$/.exec(
      spec.imageName,
    );
    expect(tag).not.toBeNull();
    expect(Number(tag?.[1])).toBeGreaterThanOrEqual(15);
    expect(spec.affinity).toMatchObject({ enablePodAntiAffinity: true });
    expect(spec.monitoring).toMatchObject({ enablePodMonitor: false });
  });

  it('bootstraps the database dsg owned by dsg, with a separate role for the migrations', () => {
    const { spec } = only('Cluster');
    expect(spec.bootstrap.initdb).toMatchObject({ database: 'dsg', owner: 'dsg' });
    expect(spec.enableSuperuserAccess).toBe(false);
    const migrator = spec.managed.roles.find((r: { name: string }) => r.name === 'dsg_migrator');
    expect(migrator).toMatchObject({
      login: true,
      passwordSecret: { name: 'dsg-postgres-migrator' },
    });
    // The migrator may log in over TLS to `dsg` only.
    expect(spec.postgresql.pg_hba).toEqual([
      'hostssl dsg dsg_migrator all scram-sha-256',
      'host all dsg_migrator all reject',
    ]);
  });

  it('never logs statements (they may carry personal data) nor the values bound to them', () => {
    const { parameters } = only('Cluster').spec.postgresql;
    expect(parameters.log_statement ?? 'none').toBe('none');
    expect(parameters.log_parameter_max_length).toBe('0');
    expect(parameters.log_parameter_max_length_on_error ?? '0').toBe('0');
  });

  it('archives WAL and takes a daily base backup into the object store', () => {
    const cluster = only('Cluster');
    const store = only('ObjectStore');
    const backup = only('ScheduledBackup');
    const plugin = 'barman-cloud.cloudnative-pg.io';
    expect(cluster.spec.plugins).toEqual([
      { name: plugin, isWALArchiver: true, parameters: { barmanObjectName: store.metadata.name } },
    ]);
    expect(store.spec.configuration.destinationPath).toMatch(/^s3:\/\/[^/]+\/.+/);
    expect(store.spec.retentionPolicy).toMatch(/^[1-9][0-9]*[dwm]$/);
    expect(backup.spec).toMatchObject({
      cluster: { name: 'dsg-postgres' },
      method: 'plugin',
      pluginConfiguration: { name: plugin },
    });
    // CloudNativePG's schedule has six fields (seconds first); this one fires once a day.
    const fields = String(backup.spec.schedule).split(' ');
    expect(fields).toHaveLength(6);
    expect(fields.slice(3)).toEqual(['*', '*', '*']);
    expect(fields.slice(0, 3).every((f) => /^\d+$/.test(f))).toBe(true);
  });

  it('holds no credentials: secrets only by reference', () => {
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
    for (const object of objects) {
      for (const [path, value] of entries(object)) {
        if (/password|secret|token|accesskey|credential/i.test(path.split('.').at(-1) ?? '')) {
          expect({ path, type: typeof value }).toEqual({ path, type: 'object' });
        }
        if (typeof value === 'string') expect(value).not.toMatch(/:\/\/[^/\s:@]+:[^/\s@]+@/);
      }
    }
    const credentials = only('ObjectStore').spec.configuration.s3Credentials;
    for (const reference of Object.values(credentials)) {
      expect(Object.keys(reference as object).sort()).toEqual(['key', 'name']);
    }
  });
});

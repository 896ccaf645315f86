import { SERVICE_NAMES, SERVICES, type ServiceName } from '@dsg/contracts';
import { loadConfig } from '@dsg/platform';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConsentConfig } from '../apps/consent/src/config/consent.config';
import { loadRegisterConfig } from '../apps/disclosure-register/src/config/register.config';
import { loadGatewayConfig } from '../apps/gateway/src/config/gateway.config';
import { loadRetentionConfig } from '../apps/retention/src/config/retention.config';

/**
 * The Kubernetes manifests (deploy/k8s), checked offline: every overlay rendered with
 * `kubectl kustomize` and every object validated against its schema (scripts/check-deploy.mjs),
 * then what an operator relies on, pod by pod: non-root, read-only root, no capabilities,
 * requests and limits, probes on the health endpoints, a drain that fits the grace period, a
 * pinned image, secrets by reference only, network flows, traces and metrics. The services' own
 * configuration loaders read each pod's environment as Kubernetes would give it.
 */
const root = join(__dirname, '..');

interface Labels {
  [key: string]: string;
}
interface Selector {
  matchLabels?: Labels;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
    configMapKeyRef?: { name: string; key: string };
  };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Labels; limits?: Labels };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  securityContext?: {
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type: string };
  };
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; emptyDir?: object; secret?: { secretName: string } }[];
}
interface PolicyPeer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string };
}
interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: { protocol?: string; port: number | string }[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels; annotations?: Labels };
  data?: Labels;
  // Each kind's own shape; the accessors below read what the tests need.
  spec?: {
    replicas?: number;
    selector?: Selector & Labels;
    template?: { metadata?: { labels?: Labels; annotations?: Labels }; spec: PodSpec };
    podSelector?: Selector;
    policyTypes?: string[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
    ports?: { name: string; port: number; targetPort: string | number }[];
    scaleTargetRef?: { kind: string; name: string };
    minReplicas?: number;
    maxUnavailable?: number | string;
    instances?: number;
    endpoints?: { port: string; path: string }[];
    [key: string]: unknown;
  };
}
interface Rendered {
  kubectl: string;
  overlays: Record<string, { objects: K8sObject[]; problems: { kind: string; problem: string }[] }>;
}

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const haveKubectl = !kubectl.error && kubectl.status === 0;

if (!haveKubectl) {
  console.warn(
    'deploy/k8s not checked: kubectl is not installed, so the overlays cannot be rendered ' +
      '(install kubectl, which bundles kustomize, and run npm test again)',
  );
}

function checkDeploy(...args: string[]) {
  return spawnSync(process.execPath, [join(root, 'scripts', 'check-deploy.mjs'), ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
type Environment = (typeof ENVIRONMENTS)[number];

/** What each environment promises (deploy/README.md). */
const EXPECTED: Record<
  Environment,
  { namespace: string; streamReplicas: number; postgresInstances: number; autoscaled: boolean }
> = {
  dev: { namespace: 'dsg-dev', streamReplicas: 1, postgresInstances: 1, autoscaled: false },
  staging: { namespace: 'dsg-staging', streamReplicas: 3, postgresInstances: 3, autoscaled: false },
  prod: { namespace: 'dsg', streamReplicas: 3, postgresInstances: 3, autoscaled: true },
};

/** Stand-ins for the Secrets' values, shaped as the real ones are (CloudNativePG's app secret). */
function secretValue(name: string, key: string): string {
  if (name === 'dsg-postgres-app') {
    const app: Labels = {
      host: 'dsg-postgres-rw',
      port: '5432',
      dbname: 'dsg',
      username: 'dsg',
      password: 'owner-password',
      uri: 'postgresql://dsg:owner-password@dsg-postgres-rw.dsg:5432/dsg',
    };
    return app[key];
  }
  return `${name}-${key}-`.padEnd(48, '0');
}

/** The container's environment as the kubelet builds it: ConfigMaps, then env with $(VAR). */
function environmentOf(objects: K8sObject[], container: Container): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const from of container.envFrom ?? []) {
    const name = from.configMapRef?.name;
    const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    if (!map) throw new Error(`${container.name}: ConfigMap ${name} is not in the overlay`);
    Object.assign(env, map.data);
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom;
    if (variable.value !== undefined) {
      env[variable.name] = variable.value.replace(
        /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
        (whole, name: string) => env[name] ?? whole,
      );
    } else if (ref?.secretKeyRef && !ref.secretKeyRef.optional) {
      env[variable.name] = secretValue(ref.secretKeyRef.name, ref.secretKeyRef.key);
    } else if (ref?.fieldRef) {
      env[variable.name] = `field-${ref.fieldRef.fieldPath}`;
    }
  }
  return env;
}

const SERVICE_LOADERS: Record<ServiceName, (env: NodeJS.ProcessEnv) => unknown> = {
  consent: loadConsentConfig,
  'disclosure-register': loadRegisterConfig,
  retention: loadRetentionConfig,
  gateway: loadGatewayConfig,
};

const matches = (selector: Selector | undefined, labels: Labels = {}) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

const describeSelector = (selector: Selector | undefined) =>
  Object.entries(selector?.matchLabels ?? {})
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

function describePeer(peer: PolicyPeer | undefined): string {
  if (!peer) return 'anywhere';
  if (peer.ipBlock) return `ip ${peer.ipBlock.cidr}`;
  const ns = peer.namespaceSelector ? `ns{${describeSelector(peer.namespaceSelector)}}` : '';
  const pods = peer.podSelector ? `pods{${describeSelector(peer.podSelector)}}` : '';
  return [ns, pods].filter(Boolean).join('/');
}

/** Every flow the policies selecting these pods allow, as "peer TCP/port" strings. */
function flows(objects: K8sObject[], labels: Labels, direction: 'Ingress' | 'Egress'): string[] {
  const out = new Set<string>();
  for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy')) {
    const spec = policy.spec!;
    if (!spec.policyTypes?.includes(direction) || !matches(spec.podSelector, labels)) continue;
    const rules = (direction === 'Ingress' ? spec.ingress : spec.egress) ?? [];
    for (const rule of rules) {
      const peers = (direction === 'Ingress' ? rule.from : rule.to) ?? [undefined];
      for (const peer of peers.length ? peers : [undefined]) {
        for (const port of rule.ports ?? [{ port: 'any' }]) {
          out.add(`${describePeer(peer)} ${port.protocol ?? 'TCP'}/${port.port}`);
        }
      }
    }
  }
  return [...out].sort();
}

const DNS = [
  'ns{kubernetes.io/metadata.name=kube-system}/pods{k8s-app=kube-dns} TCP/53',
  'ns{kubernetes.io/metadata.name=kube-system}/pods{k8s-app=kube-dns} UDP/53',
];
const DATABASE = ['pods{cnpg.io/cluster=dsg-postgres} TCP/5432'];
const NATS = ['pods{app.kubernetes.io/component=nats,app.kubernetes.io/name=nats} TCP/4222'];
const TRACES = [
  'ns{kubernetes.io/metadata.name=observability} TCP/4317',
  'ns{kubernetes.io/metadata.name=observability} TCP/4318',
];
/** Only the flows each service needs, beyond NATS, the database, DNS and the collector. */
const OWN_EGRESS: Record<ServiceName, string[]> = {
  // notices: webhooks (HTTPS), e-mail by SMTP submission (SMTP_URL)
  consent: ['anywhere TCP/443', 'anywhere TCP/465', 'anywhere TCP/587'],
  'disclosure-register': [],
  retention: [],
  gateway: ['anywhere TCP/443'], // the identity provider's JWKS
};
const MONITORING = 'ns{kubernetes.io/metadata.name=monitoring}';
const CLIENTS = 'ns{dsg/clients=allowed}/pods{dsg/client=true}';

const maybe = haveKubectl ? describe : describe.skip;

maybe('deploy/k8s rendered by kubectl kustomize', () => {
  let rendered: Rendered;

  beforeAll(() => {
    const run = checkDeploy('--json');
    // 0: all valid, 1: some invalid (asserted below); anything else is a failure to render.
    if (run.status !== 0 && run.status !== 1) throw new Error(run.stderr);
    rendered = JSON.parse(run.stdout) as Rendered;
  });

  const objectsOf = (overlay: string) => rendered.overlays[overlay].objects;
  const kindOf = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
  const named = (objects: K8sObject[], kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name}`);
    return found;
  };
  const workloads = (objects: K8sObject[]) =>
    objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
  const containersOf = (o: K8sObject) => [
    ...o.spec!.template!.spec.containers,
    ...(o.spec!.template!.spec.initContainers ?? []),
  ];

  it('renders every overlay: per environment its database, its migrations and its services', () => {
    expect(Object.keys(rendered.overlays).sort()).toEqual(
      ENVIRONMENTS.flatMap((e) => [e, `${e}/database`, `${e}/migrations`]).sort(),
    );
  });

  it('validates every object against its schema offline, with no kind left unchecked', () => {
    for (const [name, overlay] of Object.entries(rendered.overlays)) {
      expect({ overlay: name, problems: overlay.problems }).toEqual({
        overlay: name,
        problems: [],
      });
      expect(overlay.objects.length).toBeGreaterThan(0);
    }
  });

  it('reports an invalid object, a misspelt field and a kind without a schema (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsg-overlays-'));
    try {
      writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [bad.yaml]\n');
      writeFileSync(
        join(dir, 'bad.yaml'),
        [
          'apiVersion: apps/v1',
          'kind: Deployment',
          'metadata: { name: bad }',
          'spec:',
          '  selector: { matchLabels: { a: b } }',
          '  template:',
          '    metadata: { labels: { a: b } }',
          '    spec:',
          '      containers:',
          "        - { name: c, image: 'i:1', resources: { limits: { cpu: 'one' } } }",
          '      securityContext: { readOnlyRootFilesytem: true }',
          '---',
          'apiVersion: example.com/v1',
          'kind: Widget',
          'metadata: { name: w }',
          '',
        ].join('\n'),
      );
      const run = checkDeploy('--overlays', dir);
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(/Deployment\/bad: .*cpu/);
      expect(run.stdout).toContain('Widget/w: no schema for example.com/v1 Widget');
      // A misspelt field passes the schemas (they allow unknown keys) but not the models' fields.
      expect(run.stdout).toContain(
        'Deployment.spec.template.spec.securityContext.readOnlyRootFilesytem is not a field of the model',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.each(ENVIRONMENTS)('the %s overlay', (environment) => {
    const expected = EXPECTED[environment];
    const objects = () => objectsOf(environment);
    const migrations = () => objectsOf(`${environment}/migrations`);
    const database = () => objectsOf(`${environment}/database`);

    it('has, per service, a Deployment, Service, ServiceAccount, PodDisruptionBudget and NetworkPolicy, and a migration Job', () => {
      for (const name of SERVICE_NAMES) {
        const deployment = named(objects(), 'Deployment', name);
        const pod = deployment.spec!.template!;
        const account = named(objects(), 'ServiceAccount', name);
        expect(pod.spec.serviceAccountName).toBe(name);
        expect(pod.spec.automountServiceAccountToken).toBe(false);
        expect(account.metadata.name).toBe(name);
        const service = named(objects(), 'Service', name);
        expect(
          matches({ matchLabels: service.spec!.selector as Labels }, pod.metadata!.labels),
        ).toBe(true);
        const pdb = named(objects(), 'PodDisruptionBudget', name);
        expect(matches(pdb.spec!.selector, pod.metadata!.labels)).toBe(true);
        expect(pdb.spec!.maxUnavailable).toBe(1);
        const policy = named(objects(), 'NetworkPolicy', name);
        expect(matches(policy.spec!.podSelector, pod.metadata!.labels)).toBe(true);
        const job = named(migrations(), 'Job', `migrate-${name}`);
        // The service's selectors take its pods, never its migration Job's.
        const jobPod = job.spec!.template!.metadata!.labels;
        expect(jobPod).toMatchObject({ 'app.kubernetes.io/name': name });
        for (const selector of [
          deployment.spec!.selector,
          { matchLabels: service.spec!.selector as Labels },
          pdb.spec!.selector,
          policy.spec!.podSelector,
        ])
          expect(matches(selector, jobPod)).toBe(false);
        expect(containersOf(job)[0].command).toEqual([
          'npm',
          'run',
          '--silent',
          'migrate',
          '--',
          '--service',
          name,
        ]);
      }
      for (const o of [...objects(), ...migrations(), ...database()]) {
        expect(`${o.kind}/${o.metadata.name} in ${o.metadata.namespace}`).toBe(
          `${o.kind}/${o.metadata.name} in ${expected.namespace}`,
        );
      }
    });

    it('runs every pod as non-root, read-only, with no capabilities and no privilege escalation', () => {
      for (const o of workloads([...objects(), ...migrations()])) {
        const pod = o.spec!.template!.spec;
        expect(pod.securityContext).toMatchObject({
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(pod.securityContext!.runAsUser).toBeGreaterThan(0);
        for (const c of containersOf(o)) {
          expect({ workload: o.metadata.name, ...c.securityContext }).toEqual({
            workload: o.metadata.name,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          // A read-only root needs a writable /tmp (npm's cache, temporary files).
          expect(c.volumeMounts).toContainEqual(expect.objectContaining({ mountPath: '/tmp' }));
        }
      }
    });

    it('gives every container CPU and memory requests and limits', () => {
      for (const o of workloads([...objects(), ...migrations()])) {
        for (const c of containersOf(o)) {
          for (const bound of ['requests', 'limits'] as const) {
            expect(Object.keys(c.resources?.[bound] ?? {}).sort()).toEqual(['cpu', 'memory']);
          }
        }
      }
    });

    it('probes every service on its health endpoints: startup, liveness, readiness', () => {
      for (const name of SERVICE_NAMES) {
        const [c] = containersOf(named(objects(), 'Deployment', name));
        expect(c.startupProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
        expect(c.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
        expect(c.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
        // The startup probe allows a slow first start (JetStream streams, key ring) before the
        // liveness probe may kill.
        const startup = c.startupProbe!;
        expect(
          (startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3),
        ).toBeGreaterThanOrEqual(60);
      }
    });

    it('rolls a new pod in before an old one goes, and lets a drain take one pod at a time', () => {
      for (const name of SERVICE_NAMES) {
        const deployment = named(objects(), 'Deployment', name);
        expect(deployment.spec!.strategy).toEqual({
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
        });
        // Where a service runs more than one pod, a node may go without the service going.
        const least = expected.autoscaled
          ? named(objects(), 'HorizontalPodAutoscaler', name).spec!.minReplicas!
          : deployment.spec!.replicas!;
        expect(least).toBeGreaterThanOrEqual(environment === 'dev' ? 1 : 2);
      }
    });

    it('waits before stopping and lets a pod drain within its grace period', () => {
      for (const name of SERVICE_NAMES) {
        const deployment = named(objects(), 'Deployment', name);
        const [c] = containersOf(deployment);
        const preStop = c.lifecycle?.preStop?.exec?.command ?? [];
        expect(preStop[0]).toBe('sleep');
        const delay = Number(preStop[1]);
        expect(delay).toBeGreaterThanOrEqual(3);
        const config = loadConfig(SERVICES[name], environmentOf(objects(), c));
        const grace = deployment.spec!.template!.spec.terminationGracePeriodSeconds!;
        // pre-stop delay, then SIGTERM: the service drains for up to SHUTDOWN_TIMEOUT_MS.
        expect(grace).toBeGreaterThan(delay + config.shutdownTimeoutMs / 1000);
      }
    });

    it('pins one image, never :latest, for every service and its migrations', () => {
      const images = new Set(
        workloads([...objects(), ...migrations()]).flatMap((o) =>
          containersOf(o).map((c) => c.image),
        ),
      );
      expect(images.size).toBe(1);
      const [image] = images;
      expect(image).toMatch(
        /^[a-z0-9.-]+(:\d+)?\/[a-z0-9/._-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$/,
      );
      expect(image).not.toMatch(/:latest$/);
    });

    it('takes secrets only by reference: database credentials from CloudNativePG, the rest from Secrets', () => {
      expect(kindOf([...objects(), ...migrations()], 'Secret')).toEqual([]);
      const secretLike = /PASSWORD|SECRET|TOKEN|KEY|_URI$|DATABASE.*_URL$|SMTP_URL/;
      for (const map of kindOf(objects(), 'ConfigMap'))
        expect(Object.keys(map.data ?? {}).filter((k) => secretLike.test(k))).toEqual([]);
      for (const o of workloads([...objects(), ...migrations()])) {
        for (const c of containersOf(o)) {
          for (const variable of c.env ?? []) {
            if (!secretLike.test(variable.name)) continue;
            if (variable.value === undefined) {
              expect(variable.valueFrom?.secretKeyRef).toBeDefined();
              continue;
            }
            // A composition of referenced values ($(VAR)), never a literal secret.
            const references = [...variable.value.matchAll(/\$\(([A-Za-z_]+)\)/g)];
            const literal = variable.value.replace(/\$\([A-Za-z_]+\)/g, '');
            expect({ variable: variable.name, references: references.length > 0 }).toEqual({
              variable: variable.name,
              references: true,
            });
            expect(literal).not.toMatch(/:\/\/[^/:@]*:[^@/]+@/);
          }
        }
      }
      for (const name of SERVICE_NAMES) {
        const [c] = containersOf(named(objects(), 'Deployment', name));
        const refs = Object.fromEntries(
          (c.env ?? [])
            .filter((v) => v.valueFrom?.secretKeyRef)
            .map((v) => [v.name, v.valueFrom!.secretKeyRef!]),
        );
        expect(refs.NATS_PASSWORD).toEqual({ name: 'dsg-nats', key: name });
        expect(refs.SIGNING_KEY_SECRET).toEqual({ name: 'dsg-secrets', key: 'signing-key-secret' });
        expect(refs.IDENTIFIER_HASH_SECRET).toEqual({
          name: 'dsg-secrets',
          key: 'identifier-hash-secret',
        });
        expect(refs.DATABASE_RUNTIME_PASSWORD).toEqual({ name: 'dsg-db-runtime', key: name });
        for (const v of ['DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_NAME'])
          expect(refs[v]?.name).toBe('dsg-postgres-app');
        const [job] = containersOf(named(migrations(), 'Job', `migrate-${name}`));
        const jobRefs = Object.fromEntries(
          (job.env ?? [])
            .filter((v) => v.valueFrom?.secretKeyRef)
            .map((v) => [v.name, v.valueFrom!.secretKeyRef!]),
        );
        expect(jobRefs.DATABASE_MIGRATOR_PASSWORD).toEqual({
          name: 'dsg-postgres-migrator',
          key: 'password',
        });
        expect(jobRefs.DATABASE_RUNTIME_PASSWORD).toEqual({ name: 'dsg-db-runtime', key: name });
        // Migrations neither sign nor hash identifiers: the Jobs are not given those secrets.
        expect(Object.values(jobRefs).map((r) => r.name)).not.toContain('dsg-secrets');
        // The migrating role's Secret is the Jobs' alone.
        expect(Object.values(refs).map((r) => r.name)).not.toContain('dsg-postgres-migrator');
      }
    });

    it("gives each service an environment its own configuration accepts, connecting as its runtime role to the cluster's read-write service over verified TLS", () => {
      for (const name of SERVICE_NAMES) {
        const [c] = containersOf(named(objects(), 'Deployment', name));
        const env = environmentOf(objects(), c);
        const config = loadConfig(SERVICES[name], env);
        expect(() => SERVICE_LOADERS[name](env)).not.toThrow();
        if (name === 'consent') {
          // Notices come from the spa's address, and the privacy officer has one (not defaults).
          expect(loadConsentConfig(env)).toMatchObject({
            noticeFrom: expect.stringMatching(/^privacy@[a-z0-9.-]+\.[a-z]+$/),
            privacyOfficerEmail: expect.stringMatching(/@/),
          });
        }
        const runtime = new URL(config.database.runtimeUrl);
        expect(runtime.username).toBe(SERVICES[name].runtimeRole);
        expect(runtime.hostname).toBe('dsg-postgres-rw');
        expect(runtime.searchParams.get('sslmode')).toBe('verify-full');
        expect(c.volumeMounts).toContainEqual(
          expect.objectContaining({ mountPath: '/etc/dsg/postgres-ca' }),
        );
        expect(runtime.searchParams.get('sslrootcert')).toBe('/etc/dsg/postgres-ca/ca.crt');
        expect(config.nats.servers).toEqual(['nats://nats:4222']);
        expect(config.nats.user).toBe(name);
        expect(config.events.replicas).toBe(expected.streamReplicas);
        // The probes' named port is the port the service listens on, and the Service's target.
        const http = c.ports!.find((p) => p.name === 'http')!.containerPort;
        const grpc = c.ports!.find((p) => p.name === 'grpc')!.containerPort;
        expect([config.http.port, config.grpc.port]).toEqual([http, grpc]);
        const service = named(objects(), 'Service', name);
        expect(service.spec!.ports!.map((p) => p.targetPort).sort()).toEqual(['grpc', 'http']);
        // The migration Job's environment is accepted too, as the owner over verified TLS.
        const [job] = containersOf(named(migrations(), 'Job', `migrate-${name}`));
        const jobConfig = loadConfig(SERVICES[name], environmentOf(migrations(), job), {
          requireSecrets: false,
        });
        const admin = new URL(jobConfig.database.adminUrl);
        // The role deploy/k8s/postgres declares for migrations (managed.roles, TLS only).
        const cluster = named(database(), 'Cluster', 'dsg-postgres');
        const managed = (cluster.spec!.managed as { roles: { name: string }[] }).roles;
        expect(managed.map((r) => r.name)).toContain(admin.username);
        expect([admin.hostname, admin.username]).toEqual(['dsg-postgres-rw', 'dsg_migrator']);
        expect(admin.searchParams.get('sslmode')).toBe('verify-full');
        expect(jobConfig.database.runtimePassword).toBeDefined();
      }
    });

    it('exports traces over OTLP and is scraped by Prometheus on /metrics', () => {
      for (const name of SERVICE_NAMES) {
        const deployment = named(objects(), 'Deployment', name);
        const [c] = containersOf(deployment);
        const env = environmentOf(objects(), c);
        expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toMatch(
          /^http:\/\/otel-collector\.observability\.svc:4318$/,
        );
        expect(env.OTEL_TRACES_SAMPLER).toBe('parentbased_traceidratio');
        expect(env.OTEL_RESOURCE_ATTRIBUTES).toContain('k8s.pod.name=');
        const http = String(c.ports!.find((p) => p.name === 'http')!.containerPort);
        expect(deployment.spec!.template!.metadata!.annotations).toMatchObject({
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': http,
          'prometheus.io/path': '/metrics',
        });
      }
      const monitors = kindOf(objects(), 'ServiceMonitor');
      if (environment === 'dev') {
        expect(monitors).toEqual([]);
        return;
      }
      expect(monitors).toHaveLength(1);
      const [monitor] = monitors;
      expect(monitor.spec!.endpoints).toEqual([
        expect.objectContaining({ port: 'http', path: '/metrics' }),
      ]);
      for (const name of SERVICE_NAMES) {
        const service = named(objects(), 'Service', name);
        expect(matches(monitor.spec!.selector, service.metadata.labels)).toBe(true);
        expect(service.spec!.ports!.map((p) => p.name)).toContain('http');
      }
      const [rules] = kindOf(objects(), 'PrometheusRule');
      const alerts = Object.fromEntries(
        (rules.spec!.groups as { rules: { alert: string; expr: string }[] }[])
          .flatMap((g) => g.rules)
          .map((r) => [r.alert, r.expr]),
      );
      // The register's gauges read 0 until its first verification: only a replica that has run
      // one may raise the alarm, and staleness counts from the process's start.
      expect(alerts.DsgRegisterVerificationFailed).toContain(
        'and dsg_register_verify_last_run_timestamp_seconds > 0',
      );
      expect(alerts.DsgRegisterVerificationStale).toContain('dsg_process_start_time_seconds');
      for (const name of SERVICE_NAMES)
        expect(alerts.DsgServiceMissing).toContain(`absent(up{job="${name}"})`);
    });

    it('denies every flow by default and allows only those each service needs', () => {
      const policies = kindOf(objects(), 'NetworkPolicy');
      expect(policies).toContainEqual(
        expect.objectContaining({
          spec: { podSelector: {}, policyTypes: ['Ingress'] },
        }),
      );
      expect(policies).toContainEqual(
        expect.objectContaining({
          spec: {
            podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'dsg' } },
            policyTypes: ['Egress'],
          },
        }),
      );
      for (const name of SERVICE_NAMES) {
        const pod = named(objects(), 'Deployment', name).spec!.template!;
        const [c] = containersOf(named(objects(), 'Deployment', name));
        const port = (p: string) => c.ports!.find((x) => x.name === p)!.containerPort;
        expect({
          service: name,
          egress: flows(objects(), pod.metadata!.labels!, 'Egress'),
        }).toEqual({
          service: name,
          egress: [...DNS, ...DATABASE, ...NATS, ...TRACES, ...OWN_EGRESS[name]].sort(),
        });
        const ingress = [
          `${MONITORING} TCP/${port('http')}`,
          `${CLIENTS} TCP/${port('grpc')}`,
          ...(name === 'gateway'
            ? [`ns{kubernetes.io/metadata.name=ingress-nginx} TCP/${port('http')}`]
            : []),
        ];
        expect({
          service: name,
          ingress: flows(objects(), pod.metadata!.labels!, 'Ingress'),
        }).toEqual({
          service: name,
          ingress: ingress.sort(),
        });
      }
      // Migrations reach the database and DNS, nothing else.
      for (const job of kindOf(migrations(), 'Job')) {
        const labels = job.spec!.template!.metadata!.labels!;
        expect(flows(objects(), labels, 'Egress')).toEqual([...DNS, ...DATABASE].sort());
        expect(flows(objects(), labels, 'Ingress')).toEqual([]);
      }
    });

    it('lets the services (and the spa systems) through to NATS and the database, and nobody else', () => {
      const service = {
        'app.kubernetes.io/part-of': 'dsg',
        'app.kubernetes.io/component': 'service',
      };
      const nats = { 'app.kubernetes.io/name': 'nats', 'app.kubernetes.io/component': 'nats' };
      expect(flows(objects(), nats, 'Ingress')).toEqual(
        [
          `pods{${describeSelector({ matchLabels: service })}} TCP/4222`,
          `${CLIENTS} TCP/4222`,
          `pods{${describeSelector({ matchLabels: nats })}} TCP/6222`,
          `${MONITORING} TCP/8222`,
          `${MONITORING} TCP/7777`,
        ].sort(),
      );
      const postgres = { 'cnpg.io/cluster': 'dsg-postgres', 'cnpg.io/podRole': 'instance' };
      expect(flows(objects(), postgres, 'Ingress')).toEqual(
        [
          'pods{app.kubernetes.io/part-of=dsg} TCP/5432',
          'pods{cnpg.io/cluster=dsg-postgres} TCP/5432',
          'ns{kubernetes.io/metadata.name=cnpg-system} TCP/5432',
          'ns{kubernetes.io/metadata.name=cnpg-system} TCP/8000',
          `${MONITORING} TCP/9187`,
        ].sort(),
      );
    });

    it(`runs JetStream streams with ${expected.streamReplicas} replica(s), within the NATS cluster's size`, () => {
      const values = parse(readFileSync(join(root, 'deploy', 'nats', 'values.yaml'), 'utf8')) as {
        config: { cluster: { enabled: boolean; replicas: number } };
      };
      const [c] = containersOf(named(objects(), 'Deployment', 'consent'));
      const replicas = loadConfig(SERVICES.consent, environmentOf(objects(), c)).events.replicas;
      expect(replicas).toBe(expected.streamReplicas);
      expect(replicas).toBeLessThanOrEqual(values.config.cluster.replicas);
    });

    it("keeps every replica's database pool, at the autoscalers' ceiling and mid-rollout, within PostgreSQL's connections", () => {
      const cluster = named(database(), 'Cluster', 'dsg-postgres');
      const spec = cluster.spec as {
        postgresql: { parameters: Labels };
        managed: { roles: { name: string; connectionLimit: number }[] };
      };
      const maxConnections = Number(spec.postgresql.parameters.max_connections);
      let services = 0;
      for (const name of SERVICE_NAMES) {
        const deployment = named(objects(), 'Deployment', name);
        const [c] = containersOf(deployment);
        const pool = loadConfig(SERVICES[name], environmentOf(objects(), c)).database.poolSize;
        const pods = expected.autoscaled
          ? (named(objects(), 'HorizontalPodAutoscaler', name).spec!.maxReplicas as number)
          : deployment.spec!.replicas!;
        services += (pods + 1) * pool; // + the surge pod of a rollout
      }
      const migrator = spec.managed.roles.find((r) => r.name === 'dsg_migrator')!.connectionLimit;
      // superuser_reserved_connections (3) and CloudNativePG's own sessions (a few): 10 in all.
      expect(services + migrator + 10).toBeLessThanOrEqual(maxConnections);
    });

    it("archives this environment's WAL and backups under a prefix of its own", () => {
      const store = named(database(), 'ObjectStore', 'dsg-backups');
      const path = (store.spec!.configuration as { destinationPath: string }).destinationPath;
      expect(path).toMatch(new RegExp(`^s3://[^/]+/${environment}/dsg-postgres$`));
    });

    it(`runs PostgreSQL as a CloudNativePG cluster of ${expected.postgresInstances} with backups`, () => {
      const cluster = named(database(), 'Cluster', 'dsg-postgres');
      expect(cluster.spec!.instances).toBe(expected.postgresInstances);
      expect(kindOf(database(), 'ScheduledBackup').length).toBeGreaterThan(0);
      expect(kindOf(database(), 'Secret')).toEqual([]);
    });

    it(
      expected.autoscaled
        ? 'autoscales every service on CPU, and leaves replica counts to the autoscaler'
        : 'runs fixed replica counts (no autoscaler)',
      () => {
        const hpas = kindOf(objects(), 'HorizontalPodAutoscaler');
        for (const name of SERVICE_NAMES) {
          const deployment = named(objects(), 'Deployment', name);
          if (!expected.autoscaled) {
            expect(hpas).toEqual([]);
            expect(deployment.spec!.replicas).toBeGreaterThanOrEqual(1);
            continue;
          }
          expect(deployment.spec!.replicas).toBeUndefined();
          const hpa = named(objects(), 'HorizontalPodAutoscaler', name);
          expect(hpa.spec!.scaleTargetRef).toMatchObject({ kind: 'Deployment', name });
          expect(hpa.spec!.minReplicas).toBeGreaterThanOrEqual(2);
          expect(hpa.spec!.metrics).toEqual([
            expect.objectContaining({
              type: 'Resource',
              resource: expect.objectContaining({ name: 'cpu' }),
            }),
          ]);
        }
      },
    );
  });

  it('takes the Secrets from the secret manager in production, before anything reads them (External Secrets)', () => {
    const wanted = [
      'dsg-backup-s3',
      'dsg-db-runtime',
      'dsg-nats',
      'dsg-postgres-migrator',
      'dsg-secrets',
    ];
    const names = (overlay: string) =>
      kindOf(objectsOf(overlay), 'ExternalSecret')
        .map((o) => o.metadata.name)
        .sort();
    // In the database overlay, the first applied.
    expect(names('prod/database')).toEqual(wanted);
    for (const overlay of Object.keys(rendered.overlays).filter((o) => o !== 'prod/database'))
      expect({ overlay, externalSecrets: names(overlay) }).toEqual({
        overlay,
        externalSecrets: [],
      });
    const filled = new Set(
      kindOf(objectsOf('prod/database'), 'ExternalSecret').flatMap((o) =>
        (o.spec!.data as { secretKey: string }[]).map((d) => `${o.metadata.name}/${d.secretKey}`),
      ),
    );
    // The database's own references: the migrating role's password and the backup store's keys.
    const references: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(walk);
      if (value === null || typeof value !== 'object') return;
      const { name, key } = value as { name?: unknown; key?: unknown };
      if (typeof name === 'string' && typeof key === 'string' && name.startsWith('dsg-'))
        references.push(`${name}/${key}`);
      Object.values(value).forEach(walk);
    };
    walk(objectsOf('prod/database').filter((o) => o.kind !== 'ExternalSecret'));
    expect(references).toEqual(
      expect.arrayContaining([
        'dsg-backup-s3/ACCESS_KEY_ID',
        'dsg-backup-s3/ACCESS_SECRET_KEY',
        'dsg-backup-s3/AWS_REGION',
      ]),
    );
    for (const reference of references) expect(filled).toContain(reference);
    expect(filled).toContain('dsg-postgres-migrator/password');
    // Every secret key the pods read from these Secrets is one an ExternalSecret fills.
    for (const o of workloads([...objectsOf('prod'), ...objectsOf('prod/migrations')])) {
      for (const c of containersOf(o)) {
        for (const v of c.env ?? []) {
          const ref = v.valueFrom?.secretKeyRef;
          if (ref && wanted.includes(ref.name) && !ref.optional)
            expect(filled).toContain(`${ref.name}/${ref.key}`);
        }
      }
    }
  });
});

describe('deploy/README.md', () => {
  it('names only files and folders that exist', () => {
    const readme = readFileSync(join(root, 'deploy', 'README.md'), 'utf8');
    const paths = [
      ...readme.matchAll(/\bdeploy\/(?:k8s|nats|otel)[A-Za-z0-9_./-]*[A-Za-z0-9_-]/g),
    ].map((m) => m[0]);
    expect(paths.length).toBeGreaterThan(5);
    for (const path of new Set(paths))
      expect({ path, exists: existsSync(join(root, path)) }).toEqual({
        path,
        exists: true,
      });
  });
});

import { SERVICE_NAMES, SERVICES } from '@dsg/contracts';
import { loadConfig } from '@dsg/platform';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';

/**
 * docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so they are checked
 * as documents: every service, health check, dependency and credential reference.
 */
const root = join(__dirname, '..');

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;

/** `${VAR:-default}` as docker compose would resolve it with VAR unset. */
const resolve = (value: string) =>
  value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').replace(/\$\$/g, '$');

describe('docker-compose.yml', () => {
  it('runs the infrastructure, a migration job and every service', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['jaeger', 'migrate', 'nats', 'otel-collector', 'postgres', ...SERVICE_NAMES].sort(),
    );
    expect(services.nats.command).toEqual(
      expect.arrayContaining(['-js', '-c', '/etc/nats/nats-server.conf']),
    );
    expect(services.nats.volumes).toContain(
      './deploy/nats/nats-server.conf:/etc/nats/nats-server.conf:ro',
    );
  });

  it('gives each service the NATS password of its own user, as the NATS server knows it', () => {
    const natsEnv = services.nats.environment ?? {};
    for (const name of SERVICE_NAMES) {
      const variable = `DSG_NATS_PASSWORD_${name.toUpperCase().replace(/-/g, '_')}`;
      expect(services[name].environment?.NATS_PASSWORD).toMatch(new RegExp(`^\\$\\{${variable}:-`));
      expect(resolve(services[name].environment?.NATS_PASSWORD ?? '')).toBe(
        resolve(natsEnv[variable] ?? 'missing'),
      );
    }
    // Every user the server configuration references has its password variable set.
    const conf = readFileSync(join(root, 'deploy', 'nats', 'nats-server.conf'), 'utf8');
    for (const [, variable] of conf.matchAll(/password: \$([A-Z_]+)/g))
      expect(natsEnv[variable]).toBeDefined();
  });

  it('builds one image and migrates every service with it before they start', () => {
    expect(services.migrate.build).toBe('.');
    const script = ([] as string[]).concat(services.migrate.command ?? []).join(' ');
    for (const name of SERVICE_NAMES) expect(script).toContain(name);
    expect(services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  });

  it.each(SERVICE_NAMES.map((s) => [s]))(
    '%s: image, port, readiness probe, dependencies',
    (name) => {
      const service = services[name];
      const env = service.environment ?? {};
      expect(service.image).toBe(services.migrate.image);
      expect(env.SERVICE).toBe(name);
      expect(Number(env.HTTP_PORT)).toBe(SERVICES[name].defaultHttpPort);
      expect(service.ports).toContain(`${env.HTTP_PORT}:${env.HTTP_PORT}`);
      expect(service.healthcheck?.test.join(' ')).toContain('/health/ready');
      expect(service.depends_on).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        nats: { condition: 'service_healthy' },
      });
    },
  );

  it('every dependency exists, and a "healthy" dependency has a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect({ name, dependency, exists: dependency in services }).toEqual({
          name,
          dependency,
          exists: true,
        });
        if (condition === 'service_healthy') expect(services[dependency].healthcheck).toBeDefined();
      }
    }
  });

  it('takes credentials from variables, and each service configuration is valid in production', () => {
    const pgPassword = services.postgres.environment?.POSTGRES_PASSWORD ?? '';
    expect(pgPassword).toMatch(/^\$\{POSTGRES_PASSWORD:-/);
    for (const name of [...SERVICE_NAMES, 'migrate'] as const) {
      const env = services[name].environment ?? {};
      for (const secret of [
        'DATABASE_RUNTIME_PASSWORD',
        'SIGNING_KEY_SECRET',
        'IDENTIFIER_HASH_SECRET',
      ]) {
        expect(env[secret]).toMatch(new RegExp(`^\\$\\{${secret}:-`));
      }
      expect(env.DATABASE_URL).toContain('${POSTGRES_PASSWORD:-');
      if (name === 'migrate') continue;
      const resolved = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, resolve(String(v))]),
      );
      expect(() =>
        loadConfig(SERVICES[name], { ...resolved, NODE_ENV: 'production' }),
      ).not.toThrow();
    }
  });

  it('mounts files that exist in the repository', () => {
    for (const service of Object.values(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (source.startsWith('./')) expect(existsSync(join(root, source))).toBe(true);
      }
    }
  });
});

/**
 * The files a script loads, itself included (relative imports, followed), and the packages it
 * imports by name (node: built-ins aside).
 */
function importsOf(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(join(root, file), 'utf8');
    for (const [, specifier] of source.matchAll(/^import .* from '([^']+)';$/gm)) {
      if (specifier.startsWith('.')) visit(posix.join(posix.dirname(file), specifier));
      else if (!specifier.startsWith('node:')) packages.add(specifier);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('is multi-stage, and the runtime stage runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const runtime = stages[stages.length - 1];
    const user = /^USER (\S+)/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('ships what the services read at run time, and starts the service named by SERVICE', () => {
    const runtime = stages[stages.length - 1];
    expect(runtime).toContain('libs/contracts/proto');
    expect(runtime).toContain('apps/consent/policy');
    // Every file a service finds at run time (findUp) is in the image: the register's recipients
    // seed was not, and the register would not start.
    const shipped = [...runtime.matchAll(/^COPY .* \.\/(\S+)$/gm)].map((m) => m[1]);
    const sources = execFileSync('git', ['ls-files', 'apps', 'libs'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    const found = sources.flatMap((f) =>
      [...readFileSync(join(root, f), 'utf8').matchAll(/findUp\('([^']+)'\)/g)].map((m) => m[1]),
    );
    expect(found).toContain('apps/disclosure-register/seed/recipients.yaml');
    for (const path of found)
      expect({
        path,
        shipped: shipped.some((dir) => path === dir || path.startsWith(`${dir}/`)),
      }).toEqual({
        path,
        shipped: true,
      });
    expect(runtime).toContain('package.json');
    expect(runtime).toMatch(/NODE_ENV=production/);
    expect(runtime).toMatch(/dist\/apps\/\$\{SERVICE\}\/src\/main\.js/);
  });

  it('ships npm run migrate with exactly the modules it imports, runnable without a HOME', () => {
    const runtime = stages[stages.length - 1];
    const fromContext = [...runtime.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)];
    const shipped = fromContext.flatMap((m) => m[1].split(' '));
    const { files, packages } = importsOf('scripts/migrate.mjs');
    expect(shipped.sort()).toEqual([...files].sort());
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.scripts.migrate).toBe('node scripts/migrate.mjs');
    for (const name of packages) expect(Object.keys(pkg.dependencies)).toContain(name);
    // npm keeps its cache and logs under HOME otherwise, which a read-only filesystem refuses.
    expect(runtime).toMatch(/npm_config_cache=\/tmp\//);
    expect(runtime).toMatch(/npm_config_update_notifier=false/);
  });

  it('runs node with the flags npm start and the benchmark give every service', () => {
    const services = readFileSync(join(root, 'scripts/lib/services.mjs'), 'utf8');
    const list = /export const SERVICE_NODE_ARGS = \[([^\]]*)\]/.exec(services)?.[1];
    const flags = [...(list ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(flags.length).toBeGreaterThan(0);
    const cmd = /^CMD .*$/m.exec(stages[stages.length - 1])?.[0] ?? '';
    expect(cmd).toContain(`node ${flags.join(' ')} dist/`);
  });
});

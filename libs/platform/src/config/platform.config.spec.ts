import { SERVICES } from '@dsg/contracts';
import { ConfigError, deriveRuntimeUrl, loadConfig } from './platform.config';

describe(loadConfig.name, () => {
  const service = SERVICES['disclosure-register'];

  it('fills defaults for a bare environment, with the service own ports and runtime role', () => {
    const sut = loadConfig(service, {});
    expect(sut.http.port).toBe(3002);
    expect(sut.grpc.port).toBe(50052);
    expect(sut.nats).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      subjectPrefix: 'dsg',
      requestTimeoutMs: 5000,
      user: 'disclosure-register',
    });
    expect(sut.database.adminUrl).toBe('postgres://postgres@127.0.0.1:5432/dsg');
    expect(new URL(sut.database.runtimeUrl).username).toBe('disclosure_register_runtime');
  });

  it('needs the signing and identifier secrets in production, except to migrate', () => {
    const error = captureError(() => loadConfig(service, { NODE_ENV: 'production' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables.map((v) => v.variable)).toEqual([
      'SIGNING_KEY_SECRET',
      'IDENTIFIER_HASH_SECRET',
    ]);
    // `migrate` runs with neither: the migration Jobs are not given them.
    expect(() =>
      loadConfig(service, { NODE_ENV: 'production' }, { requireSecrets: false }),
    ).not.toThrow();
  });

  it('names every bad variable at once, and echoes none of their values', () => {
    const env = {
      NATS_URL: 'http://broker:4222',
      HTTP_PORT: '70000',
      GRPC_PORT: 'grpc',
      LOG_LEVEL: 'chatty',
      NATS_SUBJECT_PREFIX: 'Has Spaces',
      DATABASE_URL: 'mysql://root:s3cret@db/x',
    };
    const error = captureError(() => loadConfig(service, env));
    expect(error).toBeInstanceOf(ConfigError);
    const names = (error as ConfigError).variables.map((v) => v.variable).sort();
    expect(names).toEqual(
      [
        'DATABASE_URL',
        'GRPC_PORT',
        'HTTP_PORT',
        'LOG_LEVEL',
        'NATS_SUBJECT_PREFIX',
        'NATS_URL',
      ].sort(),
    );
    for (const value of ['70000', 'chatty', 's3cret', 'http://broker']) {
      expect((error as Error).message).not.toContain(value);
    }
  });

  it('requires a runtime password when the owner connection uses one', () => {
    const error = captureError(() =>
      loadConfig(service, { DATABASE_URL: 'postgres://owner:pw@db:5432/dsg' }),
    );
    expect((error as ConfigError).variables.map((v) => v.variable)).toEqual([
      'DATABASE_RUNTIME_PASSWORD',
    ]);
    const sut = loadConfig(service, {
      DATABASE_URL: 'postgres://owner:pw@db:5432/dsg',
      DATABASE_RUNTIME_PASSWORD: 'rt',
    });
    expect(new URL(sut.database.runtimeUrl).password).toBe('rt');
  });

  it('accepts several NATS servers and an explicit runtime URL', () => {
    const sut = loadConfig(service, {
      NATS_URL: 'nats://a:4222,nats://b:4222',
      DATABASE_RUNTIME_URL: 'postgres://app:pw@db:5432/dsg',
    });
    expect(sut.nats.servers).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(sut.database.runtimeUrl).toBe('postgres://app:pw@db:5432/dsg');
  });
});

describe(deriveRuntimeUrl.name, () => {
  it('keeps server and database, swaps the role, and encodes the password', () => {
    const url = new URL(
      deriveRuntimeUrl(
        'postgres://owner:x@db:6543/dsg?sslmode=require',
        'consent_runtime',
        'p@ss/word',
      ),
    );
    expect(url.username).toBe('consent_runtime');
    expect(decodeURIComponent(url.password)).toBe('p@ss/word');
    expect(url.host).toBe('db:6543');
    expect(url.pathname).toBe('/dsg');
    expect(url.searchParams.get('sslmode')).toBe('require');
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

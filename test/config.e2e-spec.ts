import { SERVICE_NAMES } from '@dsg/contracts';
import { ServiceProcess } from './support/service-process';

describe('configuration is validated at boot', () => {
  it.each(SERVICE_NAMES.map((s) => [s]))(
    '%s started with bad variables exits non-zero naming every one of them',
    async (service) => {
      const proc = await ServiceProcess.start(service, {
        HTTP_PORT: 'eighty',
        NATS_URL: 'http://127.0.0.1:4222',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'postgres://secret-user:hunter2@127.0.0.1:5432/x',
      });
      const exit = await proc.exited;
      expect(exit.code).toBe(1);
      const output = proc.lines.join('\n');
      for (const variable of ['HTTP_PORT', 'NATS_URL', 'LOG_LEVEL'])
        expect(output).toContain(variable);
      // A valid variable is not blamed, and no value is echoed (values may be secrets).
      expect(output).not.toMatch(/DATABASE_URL \(/);
      expect(output).not.toContain('eighty');
      expect(output).not.toContain('hunter2');
    },
  );

  it('the gateway refuses an identity provider configured by halves, naming what is missing', async () => {
    const proc = await ServiceProcess.start('gateway', { OIDC_ISSUER: 'https://idp.example.test' });
    expect((await proc.exited).code).toBe(1);
    const output = proc.lines.join('\n');
    expect(output).toContain('OIDC_AUDIENCE');
    expect(output).toContain('OIDC_JWKS_URL');
  });

  it('an unknown command exits non-zero', async () => {
    const proc = await ServiceProcess.start('consent', {}, ['launch-rockets']);
    expect((await proc.exited).code).toBe(2);
  });
});

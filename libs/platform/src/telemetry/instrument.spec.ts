import { startTelemetry } from './instrument';

describe(startTelemetry.name, () => {
  it('is off without an OTLP endpoint, and does not even load the SDK', () => {
    expect(startTelemetry('consent', {})).toBe(false);
    expect(
      startTelemetry('consent', {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x',
        OTEL_SDK_DISABLED: 'true',
      }),
    ).toBe(false);
    expect(
      startTelemetry('consent', {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x',
        OTEL_TRACES_EXPORTER: 'none',
      }),
    ).toBe(false);
    expect(
      Object.keys(require.cache).some((path) => path.includes('@opentelemetry/sdk-node')),
    ).toBe(false);
  });
});

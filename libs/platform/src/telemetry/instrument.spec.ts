import { startTelemetry, withoutPersonalUrl } from './instrument';

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

describe(withoutPersonalUrl.name, () => {
  it("drops a URL's query and, where the route is named, puts its template in place of the path", () => {
    const attributes: Record<string, unknown> = {
      'url.full': 'http://gw:3000/v1/subjects/client-42/accountings?clientId=client-42',
      'http.target': '/v1/subjects/client-42/accountings?x=1',
      'url.path': '/v1/subjects/client-42/accountings',
      'url.query': 'clientId=client-42',
      'http.route': '/v1/subjects/:clientId/accountings',
    };
    withoutPersonalUrl(attributes);
    expect(attributes).toEqual({
      'url.full': 'http://gw:3000/v1/subjects/:clientId/accountings',
      'http.target': '/v1/subjects/:clientId/accountings',
      'url.path': '/v1/subjects/:clientId/accountings',
      'http.route': '/v1/subjects/:clientId/accountings',
    });
    expect(JSON.stringify(attributes)).not.toContain('client-42');
    const unnamed: Record<string, unknown> = { 'http.target': '/exports/lines?treeSize=5' };
    withoutPersonalUrl(unnamed);
    expect(unnamed).toEqual({ 'http.target': '/exports/lines' });
  });
});

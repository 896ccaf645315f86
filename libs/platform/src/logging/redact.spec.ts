import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { REDACTED, redact } from './redact';

describe(redact.name, () => {
  it('replaces personal keys at any depth, whatever their spelling', () => {
    const sut = redact({
      subject: {
        clientId: 'c-1',
        first_name: 'Ann',
        Email: 'ann@example.test',
        'date-of-birth': '2001-02-03',
      },
      items: [{ phoneNumber: '818-555-0100', category: 'contact' }],
      purpose: 'scheduling',
    });
    expect(sut).toEqual({
      subject: {
        clientId: 'c-1',
        first_name: REDACTED,
        Email: REDACTED,
        'date-of-birth': REDACTED,
      },
      items: [{ phoneNumber: REDACTED, category: 'contact' }],
      purpose: 'scheduling',
    });
  });

  it('redacts what legal requests and register entries carry about people', () => {
    const sut = redact({
      requestId: 'r-1',
      official: { name: 'Det. Example', title: 'Detective' },
      scope: { subjects: ['c-1'], categories: ['identifiers'] },
      statement: 'An open investigation into …',
      details: { actingPerson: 'staff-1', description: 'History sent' },
    });
    expect(sut).toEqual({
      requestId: 'r-1',
      official: REDACTED,
      scope: { subjects: REDACTED, categories: ['identifiers'] },
      statement: REDACTED,
      details: { actingPerson: REDACTED, description: REDACTED },
    });
  });

  it('redacts a whole object under a personal key, and survives cycles', () => {
    const node: Record<string, unknown> = { payload: { nested: 'x' } };
    node.self = node;
    expect(redact(node)).toEqual({ payload: REDACTED, self: '[Circular]' });
  });
});

describe(createLogger.name, () => {
  it('writes JSON lines in which personal values never appear', () => {
    const { lines, destination } = capture();
    const sut = createLogger({ service: 'consent', instanceId: 'i-1', level: 'info', destination });
    sut.info(
      {
        request: { email: 'zed@example.test' },
        subject: { dob: '1999-09-09' },
        operation: 'check',
      },
      'decided',
    );
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'info',
      service: 'consent',
      operation: 'check',
      msg: 'decided',
    });
    expect(lines[0]).not.toContain('zed@example.test');
    expect(lines[0]).not.toContain('1999-09-09');
  });

  it('logs errors with type, message and stack, but not the row values drivers attach', () => {
    const { lines, destination } = capture();
    const sut = createLogger({ service: 'consent', instanceId: 'i-1', level: 'info', destination });
    const err = Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
      detail: 'Key (email)=(zed@example.test) already exists.',
    });
    sut.error({ err, cause: { error: err } }, 'insert failed');
    const line = JSON.parse(lines[0]) as { err: Record<string, unknown> };
    expect(line.err).toMatchObject({ type: 'Error', code: '23505', message: err.message });
    expect(line.err.stack).toEqual(expect.stringContaining('redact.spec.ts'));
    expect(lines[0]).not.toContain('zed@example.test');
  });
});

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, destination };
}

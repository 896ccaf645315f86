import { smtpFailureCode } from './notice-delivery';
import { channelOf } from './notices.service';

describe(smtpFailureCode.name, () => {
  it('names an e-mail failure by its SMTP reply code or what went wrong, never its message', () => {
    const err = (fields: object) =>
      Object.assign(new Error('Recipient command failed: 451 <client@example.test>'), fields);
    expect(smtpFailureCode(err({ responseCode: 451, code: 'EENVELOPE' }))).toBe('SMTP_451');
    expect(smtpFailureCode(err({ responseCode: 550 }))).toBe('SMTP_550');
    expect(smtpFailureCode(err({ code: 'ETIMEDOUT' }))).toBe('TIMEOUT');
    expect(smtpFailureCode(err({ code: 'ECONNECTION' }))).toBe('SMTP_CONNECTION');
    expect(smtpFailureCode(err({ code: 'EAUTH' }))).toBe('SMTP_AUTH');
    expect(smtpFailureCode(err({}))).toBe('SMTP_ERROR');
    expect(smtpFailureCode('not an error')).toBe('SMTP_ERROR');
  });
});

describe(channelOf.name, () => {
  it('sends to a URL by webhook and to anything else by e-mail, unless a channel is given', () => {
    expect(channelOf({ destination: 'https://hooks.example.test/dsg' })).toBe('webhook');
    expect(channelOf({ destination: 'HTTP://hooks.example.test/dsg' })).toBe('webhook');
    expect(channelOf({ destination: 'privacy@example.test' })).toBe('email');
    expect(channelOf({})).toBe('email');
    expect(channelOf({ channel: 'webhook' })).toBe('webhook');
  });
});

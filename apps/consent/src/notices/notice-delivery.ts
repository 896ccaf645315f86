import { canonicalJson, type NoticeChannel, type NoticeType } from '@dsg/contracts';
import { KeyRing } from '@dsg/platform';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { CONSENT_CONFIG, type ConsentConfig } from '../config/consent.config';

/** Longest a webhook receiver may take to answer. */
const WEBHOOK_TIMEOUT_MS = 10_000;

/** The headers of a signed webhook (README: Notices). */
export const WEBHOOK_HEADERS = {
  signature: 'Dsg-Signature',
  kid: 'Dsg-Signature-Kid',
  timestamp: 'Dsg-Timestamp',
} as const;

/** What one attempt needs of a notice. */
export interface OutgoingNotice {
  id: string;
  type: NoticeType;
  channel: NoticeChannel;
  rule: string;
  ref: string;
  clientId?: string;
  recipientId?: string;
  subject: string;
  body: string;
}

/**
 * An attempt's outcome: sent, failed with a stable code (never an address or a server's words,
 * which may quote one), or interrupted by shutdown before an answer (not an attempt).
 */
export type DeliveryOutcome =
  { outcome: 'sent' } | { outcome: 'failed'; code: string } | { outcome: 'interrupted' };

const failed = (code: string): DeliveryOutcome => ({ outcome: 'failed', code });
const EMAIL = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/;

/**
 * The two ways a notice leaves: e-mail to SMTP_URL, From NOTICE_FROM; or a JSON POST to a
 * webhook, signed with the consent service's Ed25519 key (its KeyRing) over
 * `<Dsg-Timestamp>.<raw body>`, which a receiver verifies with the keys of `consent.keys.list`.
 */
@Injectable()
export class NoticeDelivery implements OnApplicationShutdown {
  private readonly mailer?: Transporter;

  constructor(
    @Inject(CONSENT_CONFIG) config: ConsentConfig,
    private readonly keyRing: KeyRing,
  ) {
    this.mailer = config.smtpUrl
      ? createTransport(
          {
            url: config.smtpUrl,
            connectionTimeout: 10_000,
            greetingTimeout: 10_000,
            socketTimeout: 20_000,
          },
          { from: config.noticeFrom },
        )
      : undefined;
  }

  /** After the dispatcher has let its e-mails in flight finish (beforeApplicationShutdown). */
  onApplicationShutdown(): void {
    this.mailer?.close();
  }

  /** False when no SMTP server is configured: e-mail notices then fail with NO_SMTP. */
  get canEmail(): boolean {
    return !!this.mailer;
  }

  send(notice: OutgoingNotice, destination: string, stop: AbortSignal): Promise<DeliveryOutcome> {
    return notice.channel === 'email'
      ? this.email(notice, destination)
      : this.webhook(notice, destination, stop);
  }

  private async email(notice: OutgoingNotice, to: string): Promise<DeliveryOutcome> {
    if (!this.mailer) return failed('NO_SMTP');
    if (!EMAIL.test(to)) return failed('BAD_DESTINATION');
    try {
      await this.mailer.sendMail({
        to,
        subject: notice.subject,
        text: notice.body,
        headers: { 'X-Dsg-Notice-Id': notice.id },
      });
      return { outcome: 'sent' };
    } catch (err) {
      return failed(smtpFailureCode(err));
    }
  }

  private async webhook(
    notice: OutgoingNotice,
    url: string,
    stop: AbortSignal,
  ): Promise<DeliveryOutcome> {
    if (!/^https?:\/\/[^\s]+$/i.test(url) || !URL.canParse(url)) return failed('BAD_DESTINATION');
    const sentAt = new Date();
    const raw = canonicalJson({
      noticeId: notice.id,
      type: notice.type,
      rule: notice.rule,
      ref: notice.ref,
      ...(notice.clientId ? { clientId: notice.clientId } : {}),
      ...(notice.recipientId ? { recipientId: notice.recipientId } : {}),
      subject: notice.subject,
      body: notice.body,
      sentAt: sentAt.toISOString(),
    });
    const timestamp = String(Math.floor(sentAt.getTime() / 1000));
    const { kid, sig } = this.keyRing.sign(`${timestamp}.${raw}`);
    const timeout = AbortSignal.timeout(WEBHOOK_TIMEOUT_MS);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_HEADERS.signature]: sig,
          [WEBHOOK_HEADERS.kid]: kid,
          [WEBHOOK_HEADERS.timestamp]: timestamp,
        },
        body: raw,
        // A redirect is an answer, not a delivery: the notice goes where it was addressed only.
        redirect: 'manual',
        signal: AbortSignal.any([timeout, stop]),
      });
      await res.body?.cancel().catch(() => undefined);
      return res.status >= 200 && res.status < 300
        ? { outcome: 'sent' }
        : failed(`HTTP_${res.status}`);
    } catch {
      if (stop.aborted) return { outcome: 'interrupted' };
      return failed(timeout.aborted ? 'TIMEOUT' : 'HTTP_CONNECTION');
    }
  }
}

/** A stable code for a failed e-mail: the SMTP reply code, or what went wrong on the way. */
export function smtpFailureCode(err: unknown): string {
  const { responseCode, code } = err as { responseCode?: number; code?: string };
  if (typeof responseCode === 'number' && responseCode >= 200 && responseCode < 600) {
    return `SMTP_${responseCode}`;
  }
  switch (code) {
    case 'ETIMEDOUT':
      return 'TIMEOUT';
    case 'ECONNECTION':
    case 'ESOCKET':
    case 'EDNS':
      return 'SMTP_CONNECTION';
    case 'ETLS':
      return 'SMTP_TLS';
    case 'EAUTH':
    case 'ENOAUTH':
      return 'SMTP_AUTH';
    default:
      return 'SMTP_ERROR';
  }
}

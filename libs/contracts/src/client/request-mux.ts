import {
  createInbox,
  ErrorCode,
  Events,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  NatsError,
  type Subscription,
} from 'nats';

interface Pending {
  subject: string;
  resolve(msg: Msg): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Request-reply over one wildcard subscription on the caller's own inbox, as nats.js's
 * `request()` does, without the Error objects (stack captures) nats.js builds for every request,
 * successful ones included: on the hot path they cost a third of a call's CPU. Failures are
 * NatsErrors with nats.js's codes (timeout, no responders, permission, connection closed), so
 * they translate as before.
 */
export class RequestMux {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix: string;
  private readonly subscription: Subscription;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    inboxPrefix: string,
  ) {
    this.prefix = createInbox(inboxPrefix);
    this.subscription = nc.subscribe(`${this.prefix}.*`, {
      callback: (err, msg) => this.onReply(err, msg),
    });
    void this.watch();
  }

  request(subject: string, data: Uint8Array, timeoutMs: number, headers?: MsgHdrs): Promise<Msg> {
    const token = (this.next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(token)) reject(NatsError.errorForCode(ErrorCode.Timeout));
      }, timeoutMs);
      this.pending.set(token, { subject, resolve, reject, timer });
      try {
        this.nc.publish(subject, data, {
          reply: `${this.prefix}.${token}`,
          ...(headers ? { headers } : {}),
        });
      } catch (err) {
        this.settle(token)?.reject(err as Error);
      }
    });
  }

  close(): void {
    this.subscription.unsubscribe();
    this.failAll(NatsError.errorForCode(ErrorCode.ConnectionClosed));
  }

  private settle(token: string): Pending | undefined {
    const pending = this.pending.get(token);
    if (!pending) return undefined;
    this.pending.delete(token);
    clearTimeout(pending.timer);
    return pending;
  }

  private onReply(err: NatsError | null, msg: Msg): void {
    if (err) {
      this.failAll(err); // the inbox itself is refused: nothing can be answered
      return;
    }
    const pending = this.settle(msg.subject.slice(this.prefix.length + 1));
    if (!pending) return; // a reply after its timeout
    // The server's status message when nobody subscribes to the subject.
    if (msg.headers?.hasError && msg.headers.code === 503) {
      pending.reject(NatsError.errorForCode(ErrorCode.NoResponders));
    } else {
      pending.resolve(msg);
    }
  }

  /** A publish the server refuses fails its request; a closed connection fails them all. */
  private async watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      const context = (status as { permissionContext?: { operation: string; subject: string } })
        .permissionContext;
      if (status.type !== Events.Error || context?.operation !== 'publish') continue;
      for (const [token, pending] of this.pending) {
        if (pending.subject !== context.subject) continue;
        this.settle(token)?.reject(
          new NatsError(
            `Permissions Violation for Publish to "${context.subject}"`,
            ErrorCode.PermissionsViolation,
          ),
        );
        break;
      }
    }
    this.failAll(NatsError.errorForCode(ErrorCode.ConnectionClosed));
  }

  private failAll(err: Error): void {
    for (const token of [...this.pending.keys()]) this.settle(token)?.reject(err);
  }
}

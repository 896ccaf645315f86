import { StackHealthReply, StackHealthRequest } from './gateway/gateway.dto';
import { SigningKeysReply, SigningKeysRequest } from './keys/keys.dto';
import type { ServiceName } from './services';
import {
  PingReply,
  PingRequest,
  StatusReply,
  StatusRequest,
  VersionReply,
  VersionRequest,
} from './system/system.dto';

type Ctor<T> = new () => T;

/** One request-reply operation: its subject (relative to the deployment prefix) and types. */
export interface RpcDef<Req, Res> {
  readonly subject: string;
  readonly request: Ctor<Req>;
  /** Phantom field carrying the reply type; never set at runtime. */
  readonly __reply?: Res;
}

function rpc<Req, Res>(subject: string, request: Ctor<Req>): RpcDef<Req, Res> {
  return { subject, request };
}

/** Operations every service answers, under `<service>.system.*`. */
function systemRpcs(service: ServiceName) {
  return {
    version: rpc<VersionRequest, VersionReply>(`${service}.system.version`, VersionRequest),
    status: rpc<StatusRequest, StatusReply>(`${service}.system.status`, StatusRequest),
    ping: rpc<PingRequest, PingReply>(`${service}.system.ping`, PingRequest),
    /** The service's current and retired public signing keys. */
    signingKeys: rpc<SigningKeysRequest, SigningKeysReply>(
      `${service}.keys.list`,
      SigningKeysRequest,
    ),
  };
}

export type SystemRpcs = ReturnType<typeof systemRpcs>;

/**
 * The request-reply API of every service. Handlers subscribe to these subjects, the typed client
 * calls them; nothing else names a subject.
 */
export const Rpc = {
  consent: { ...systemRpcs('consent') },
  'disclosure-register': { ...systemRpcs('disclosure-register') },
  retention: { ...systemRpcs('retention') },
  gateway: {
    ...systemRpcs('gateway'),
    /** Every service's status, gathered by the gateway over NATS. */
    stackHealth: rpc<StackHealthRequest, StackHealthReply>(
      'gateway.health.stack',
      StackHealthRequest,
    ),
  },
} satisfies Record<ServiceName, Record<string, RpcDef<unknown, unknown>>>;

export type RpcApi = typeof Rpc;

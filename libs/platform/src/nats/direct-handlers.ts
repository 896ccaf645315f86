import type { RpcDef } from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import type { NatsRpcContext } from './nats-rpc.server';

/** A handler the NATS server calls without Nest's per-call pipeline (see DirectHandlers). */
export interface DirectHandler {
  /** The contract class the payload is validated against, as the global pipe would. */
  request: new () => unknown;
  handle(request: unknown, context: NatsRpcContext): unknown;
}

/**
 * Hot-path NATS operations dispatched straight to their service method by the platform's NATS
 * server, skipping Nest's per-call context (guards, pipes and filters resolved per request),
 * which costs more than the decision itself. What Nest would do is done here too: the payload is
 * validated by the same ContractValidationPipe and errors are mapped by the same toErrorBody. An
 * operation taken for a person (a role to check) cannot be direct. The handler keeps its
 * `@MessagePattern` for discovery, documents and any transport that is not this one.
 */
@Injectable()
export class DirectHandlers {
  private readonly handlers = new Map<string, DirectHandler>();

  register<Req, Res>(
    def: RpcDef<Req, Res>,
    handle: (request: Req, context: NatsRpcContext) => Res | Promise<Res>,
  ): void {
    if (this.handlers.has(def.subject)) throw new Error(`${def.subject} registered twice`);
    this.handlers.set(def.subject, {
      request: def.request,
      handle: handle as (request: unknown, context: NatsRpcContext) => unknown,
    });
  }

  get(subject: string): DirectHandler | undefined {
    return this.handlers.get(subject);
  }
}

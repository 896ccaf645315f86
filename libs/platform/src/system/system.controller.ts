import {
  PingRequest,
  Rpc,
  RotateSigningKeyRequest,
  type ServiceDescriptor,
  SigningKeysRequest,
  StatusRequest,
  VersionRequest,
} from '@dsg/contracts';
import { Controller, type Type } from '@nestjs/common';
import { Ctx, GrpcMethod, MessagePattern, Payload } from '@nestjs/microservices';
import { RequireRole } from '../identity/require-role';
import { NatsRpcContext } from '../nats/nats-rpc.server';
import { SystemService } from './system.service';

/**
 * Builds the controller that serves `<service>.system.*` on NATS and the same operations on the
 * service's gRPC service. Both handlers of a pair call the one SystemService method. Payloads are
 * declared so the validation pipe refuses unknown fields on the empty requests too.
 */
export function createSystemController(service: ServiceDescriptor): Type {
  const rpc = Rpc[service.name];
  const grpc = service.grpcService;

  @Controller()
  class SystemController {
    constructor(private readonly system: SystemService) {}

    @MessagePattern(rpc.version.subject)
    version(@Payload() _request: VersionRequest) {
      return this.system.version();
    }

    @GrpcMethod(grpc, 'Version')
    grpcVersion(@Payload() _request: VersionRequest) {
      return this.system.version();
    }

    @MessagePattern(rpc.status.subject)
    status(@Payload() _request: StatusRequest) {
      return this.system.status();
    }

    @GrpcMethod(grpc, 'Status')
    grpcStatus(@Payload() _request: StatusRequest) {
      return this.system.status();
    }

    @MessagePattern(rpc.ping.subject)
    ping(@Payload() request: PingRequest, @Ctx() context: NatsRpcContext) {
      return this.system.ping(request, context.caller);
    }

    @GrpcMethod(grpc, 'Ping')
    grpcPing(@Payload() request: PingRequest) {
      return this.system.ping(request);
    }

    @MessagePattern(rpc.signingKeys.subject)
    signingKeys(@Payload() _request: SigningKeysRequest) {
      return this.system.signingKeys();
    }

    @MessagePattern(rpc.rotateSigningKey.subject)
    @RequireRole('privacy_officer')
    rotateSigningKey(@Payload() _request: RotateSigningKeyRequest, @Ctx() context: NatsRpcContext) {
      return this.system.rotateSigningKey(context.principal!);
    }

    @GrpcMethod(grpc, 'SigningKeys')
    grpcSigningKeys(@Payload() _request: SigningKeysRequest) {
      return this.system.signingKeys();
    }
  }
  return SystemController;
}

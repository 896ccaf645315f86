import { GetPolicyRequest, ListPolicyVersionsRequest, Rpc } from '@dsg/contracts';
import { Controller } from '@nestjs/common';
import { GrpcMethod, MessagePattern, Payload } from '@nestjs/microservices';
import { PolicyService } from './policy.service';

@Controller()
export class PolicyController {
  constructor(private readonly policy: PolicyService) {}

  @MessagePattern(Rpc.consent.policyGet.subject)
  get(@Payload() request: GetPolicyRequest) {
    return this.policy.get(request.version);
  }

  @GrpcMethod('ConsentService', 'GetPolicy')
  async grpcGet(@Payload() request: GetPolicyRequest) {
    const { bundle, ...rest } = await this.policy.get(request.version || undefined);
    return { ...rest, bundleJson: JSON.stringify(bundle) };
  }

  @MessagePattern(Rpc.consent.policyVersions.subject)
  versions(@Payload() _request: ListPolicyVersionsRequest) {
    return this.policy.versions();
  }

  @GrpcMethod('ConsentService', 'ListPolicyVersions')
  grpcVersions(@Payload() _request: ListPolicyVersionsRequest) {
    return this.policy.versions();
  }
}

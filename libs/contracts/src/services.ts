/**
 * The services of one deployment. A deployment serves one business (a covered entity, possibly
 * with several locations): there is no tenant dimension anywhere in the product.
 */
export const SERVICE_NAMES = ['consent', 'disclosure-register', 'retention', 'gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceDescriptor {
  readonly name: ServiceName;
  /** PostgreSQL schema the service owns; no other service reads it. */
  readonly schema: string;
  /** Login role the service runs as. It owns nothing; migrations grant it what it needs. */
  readonly runtimeRole: string;
  /** Fully qualified protobuf package and service. */
  readonly grpcPackage: string;
  readonly grpcService: string;
  /** Path of the service's .proto file below the contracts' proto root. */
  readonly protoFile: string;
  readonly defaultHttpPort: number;
  readonly defaultGrpcPort: number;
}

function describe(
  name: ServiceName,
  schema: string,
  grpcService: string,
  defaultHttpPort: number,
  defaultGrpcPort: number,
): ServiceDescriptor {
  return {
    name,
    schema,
    runtimeRole: `${schema}_runtime`,
    grpcPackage: `dsg.${schema}.v1`,
    grpcService,
    protoFile: `dsg/${schema}/v1/${schema}.proto`,
    defaultHttpPort,
    defaultGrpcPort,
  };
}

export const SERVICES: Readonly<Record<ServiceName, ServiceDescriptor>> = {
  gateway: describe('gateway', 'gateway', 'GatewayService', 3000, 50050),
  consent: describe('consent', 'consent', 'ConsentService', 3001, 50051),
  'disclosure-register': describe(
    'disclosure-register',
    'disclosure_register',
    'DisclosureRegisterService',
    3002,
    50052,
  ),
  retention: describe('retention', 'retention', 'RetentionService', 3003, 50053),
};

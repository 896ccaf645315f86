import { protoRoot, type ServiceDescriptor } from '@dsg/contracts';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';

export interface GrpcFailure {
  code: grpc.status;
  details: string;
  /** The JSON error body from the `dsg-error-bin` trailer, when the service sent one. */
  body?: { code: string; message: string; fields?: { field: string; constraint: string }[] };
}

type Unary = (
  request: object,
  callback: (err: grpc.ServiceError | null, reply: unknown) => void,
) => void;

/** A plain grpc-js client built from the .proto files, as an internal caller would build one. */
export class GrpcTestClient {
  private readonly client: grpc.Client & Record<string, Unary>;

  constructor(descriptor: ServiceDescriptor, port: number) {
    const definition = protoLoader.loadSync(join(protoRoot(), descriptor.protoFile), {
      includeDirs: [protoRoot()],
      keepCase: false,
      longs: Number,
      enums: String,
      arrays: true, // an empty repeated field is [] (proto3 sends none)
    });
    const pkg = grpc.loadPackageDefinition(definition);
    const ctor = descriptor.grpcPackage
      .split('.')
      .concat(descriptor.grpcService)
      .reduce<unknown>(
        (node, key) => (node as Record<string, unknown>)[key],
        pkg,
      ) as grpc.ServiceClientConstructor;
    this.client = new ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client &
      Record<string, Unary>;
  }

  call<T>(
    method: string,
    request: object,
  ): Promise<{ ok: true; value: T } | { ok: false; error: GrpcFailure }> {
    return new Promise((resolve) => {
      this.client[method].call(this.client, request, (err, reply) => {
        if (!err) return resolve({ ok: true, value: reply as T });
        const raw = err.metadata?.get('dsg-error-bin')[0];
        resolve({
          ok: false,
          error: {
            code: err.code,
            details: err.details,
            body: raw ? JSON.parse(Buffer.from(raw as Buffer).toString('utf8')) : undefined,
          },
        });
      });
    });
  }

  /** Sends raw bytes that are not a valid protobuf message for the method. */
  callRaw(path: string, bytes: Buffer): Promise<grpc.ServiceError | null> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        (err) => resolve(err ?? null),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

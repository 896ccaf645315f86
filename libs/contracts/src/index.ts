export * from './services';
export * from './errors';
export * from './wire';
export * from './rpc';
export * from './find-up';
export * from './system/system.dto';
export * from './client/dsg-client';
export * from './events';

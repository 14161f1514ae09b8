export * from './keys.js';
export * from './membership-store.js';
export type * from './ports.js';
export { describeStoreError, isNoScriptError, scriptSha } from './script-sha.js';

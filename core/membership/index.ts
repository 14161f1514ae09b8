export * from './canary-control.js';
export * from './effective.js';
export * from './flip-entry.js';
export * from './keys.js';
export * from './membership-store.js';
export type * from './ports.js';
export { isNoScriptError, scriptSha } from './script-sha.js';
export { StoreError, storeCall } from './store-error.js';

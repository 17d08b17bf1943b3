export * from './ref.js';
export * from './cosign.js';
export * from './cosign-version.js';
export * from './policy.js';
export * from './registry.js';
export * from './hallmark.js';

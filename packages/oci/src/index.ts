export * from './ref.js';

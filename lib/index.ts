// Package entry point: the whole public API (Node). The browser-safe subset is
// `rxjs-structured-streaming/operators`.
export * from './core.js';
export * from '../operators/index.js';

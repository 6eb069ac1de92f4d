// Browser-safe entry point (`rxjs-structured-streaming/browser`): the core and
// every operator, nothing that touches Node (no sources, sinks, checkpoint
// files or query runtime). A test bundles it for the browser and runs a
// windowed pipeline without Node.
export * from './core.js';
export * from '../operators/index.js';

// Entry of every pose worker thread. Worker threads do not inherit the parent's TypeScript loader in every setup
// (vitest forks, `node --import tsx`, the bin script), so this plain-JS file registers tsx itself and then loads
// the TypeScript worker. Registering twice (when --import tsx was inherited) is harmless.
import { register } from 'tsx/esm/api';

register();
await import('./pose.worker.ts');

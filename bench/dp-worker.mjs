// Worker entry for bench/data-parallel.ts: worker threads do not inherit tsx's loader, so register it here.
import { register } from 'tsx/esm/api';

register();
await import('./data-parallel.ts');

#!/usr/bin/env node
// `npx canary-edge <command>`: the operator CLI (tools/operator/cli-canary-edge.ts), run through tsx like every other
// tool of this repository.
import { register } from 'tsx/esm/api';

register();
await import('../tools/operator/cli-canary-edge.ts');

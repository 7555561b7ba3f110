#!/usr/bin/env node
// brume runs its TypeScript sources directly through tsx: no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../adapters/cli/main.ts');

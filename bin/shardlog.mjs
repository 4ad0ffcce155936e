#!/usr/bin/env node
// The `shardlog` executable: loads the TypeScript CLI through tsx's API, so `npx shardlog …` works from a clone
// with no build step. tsImport() scopes the TypeScript loader to this import instead of registering it for the
// whole process.
import { tsImport } from 'tsx/esm/api';

await tsImport('./shardlog.ts', import.meta.url);

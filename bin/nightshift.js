#!/usr/bin/env node
// Entry point. Node >= 22.12 runs the TypeScript sources directly (type stripping); the
// compile cache (in the OS temp folder) halves start-up time after the first run.
import module from "node:module";

module.enableCompileCache?.();
await import("../src/cli/main.ts");

#!/usr/bin/env node
// Installed entry point: Node >= 22.12 runs the TypeScript sources directly (type stripping).
await import("../src/cli/main.ts");

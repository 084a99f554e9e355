#!/usr/bin/env node
// `npx tessera …`: loads the TypeScript CLI through tsx so the source is the only copy.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));

import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two kinds of test, told apart by name:
//   *.workerd.test.ts  run inside workerd (the Workers runtime) through the Cloudflare plugin;
//   *.test.ts          run in Node 22 (share-holder nodes, the wasm core, cross-component tests).
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "workerd",
          include: ["{worker,wasm,shared,test}/**/*.workerd.test.ts"],
          // A loaded 2-core CI machine runs several workerd files at once: generous, not infinite.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "node",
          include: ["{worker,mpc-node,wasm,shared,test}/**/*.test.ts"],
          exclude: ["**/*.workerd.test.ts", "**/node_modules/**", "wasm/target/**"],
          environment: "node",
          // Builds the local Bitcoin node (btcd) once when a fresh clone has none.
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

import type { Env as WorkerEnv } from "./src/index.js";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
  }
}

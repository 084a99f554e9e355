// workerd (wrangler, the vitest plugin) imports .wasm files as precompiled modules.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}

#!/usr/bin/env bash
# Builds the MPC core (Rust) into wasm/pkg, reproducibly.
#
# Toolchain (see ../shared/research/wasm-toolchain.md): Debian's rustc-web 1.96 with its
# std source (rust-web-src) and lld. rustup's toolchains have no wasm32 std and cannot
# download one here, so std is compiled from source with -Zbuild-std.
# The wasm-bindgen CLI must match the wasm-bindgen library pin exactly.
#
# Usage: wasm/build.sh [out-dir]   (default: wasm/pkg)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/pkg}"
WASM_BINDGEN_VERSION=0.2.129 # keep equal to wasm-bindgen in Cargo.toml

if [ ! -x /usr/bin/rustc ] || [ ! -d /usr/lib/rustlib/src/rust/library ] || ! command -v wasm-ld >/dev/null; then
  echo "wasm/build.sh needs Debian's Rust for wasm: apt-get install -y rustc-web cargo-web rust-web-src lld" >&2
  exit 1
fi

# The wasm-bindgen CLI is a host tool: any cargo builds it (rustup's or Debian's).
bindgen="${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen"
if ! "$bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  echo "== installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (once; a few minutes)"
  cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --locked --quiet
fi

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
std_src="$(readlink -f /usr/lib/rustlib/src/rust)"
# cpubits="32": RustCrypto's arithmetic (k256's field, crypto-bigint) picks its limb size with the
# cpubits crate, whose heuristic picks 64-bit words for wasm32 (wasm has i64); but wasm has no
# 64x64->128 multiply, so every limb product becomes a __multi3 call. 32-bit limbs measured on this
# machine: signing x0.82, DKG x0.38 (../shared/research/perf-probe/). Same arithmetic, other limbs.
# Absolute paths of this machine must not reach the artifact (panic locations embed
# file paths), or two clones in different folders would build different bytes.
export RUSTFLAGS="--remap-path-prefix=$here=/tessera/wasm \
--remap-path-prefix=$cargo_home=/cargo \
--remap-path-prefix=$std_src=/rustc \
--remap-path-prefix=/usr/lib/rustlib/src/rust=/rustc \
-C target-feature=+bulk-memory,+mutable-globals,+sign-ext,+nontrapping-fptoint,+simd128 \
--cfg cpubits=\"32\""
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld
export RUSTC_BOOTSTRAP=1 # -Zbuild-std on Debian's stable rustc
export SOURCE_DATE_EPOCH=0

cd "$here"
echo "== cargo build (Debian $(/usr/bin/rustc --version))"
PATH="/usr/bin:$PATH" /usr/bin/cargo build --release --locked \
  --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort

echo "== wasm-bindgen $WASM_BINDGEN_VERSION -> $out"
rm -rf "$out"
"$bindgen" --target web --out-dir "$out" --out-name tessera_mpc \
  target/wasm32-unknown-unknown/release/tessera_mpc.wasm
# wasm-opt from npm binaryen (pinned in package.json; Debian's binaryen 108 emits a module that
# fails at load): -O3 on LLVM's output measured signing x0.90 alone, x0.775 with cpubits="32".
# Deterministic, so check:wasm still compares bytes.
wasm_opt="$here/../node_modules/.bin/wasm-opt"
if ! "$wasm_opt" --version 2>/dev/null | grep -q "version 132 "; then
  echo "wasm/build.sh needs wasm-opt 132 from npm binaryen: run npm install" >&2
  exit 1
fi
echo "== wasm-opt -O3 ($("$wasm_opt" --version))"
"$wasm_opt" -O3 --enable-simd --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$out/tessera_mpc_bg.wasm" -o "$out/tessera_mpc_bg.wasm"
# wasm-bindgen writes a package.json and .gitignore we do not want in the committed pkg.
rm -f "$out/.gitignore" "$out/package.json"
( cd "$out" && sha256sum tessera_mpc_bg.wasm )

#!/usr/bin/env bash
# Rebuilds wasm/pkg from source into a temporary folder and fails unless every file is
# byte-for-byte identical to the committed one: what runs is what the Rust source says.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bash "$here/build.sh" "$tmp/pkg"
echo "== comparing the rebuilt artifact with the committed wasm/pkg"
if diff -r "$here/pkg" "$tmp/pkg"; then
  echo "wasm artifact check: OK, identical ($(cd "$here/pkg" && sha256sum tessera_mpc_bg.wasm | cut -c1-16)…)"
else
  echo "wasm artifact check: FAILED, wasm/pkg differs from a rebuild of wasm/src (run npm run build:wasm and commit)" >&2
  exit 1
fi

# The vendored dkls23-core fork must keep byte-identical outputs to the published crate it came
# from (vendor/dkls23-core/README.md): a native test running both side by side on one random stream.
echo "== differential test: wasm/vendor/dkls23-core against dkls23-core 0.6.2 from crates.io"
# From inside its folder: cargo reads .cargo/config.toml (the seeded getrandom backend) from the
# working directory, not from --manifest-path.
(cd "$here/vendor/differential" && PATH="/usr/bin:$PATH" /usr/bin/cargo test --release --locked)

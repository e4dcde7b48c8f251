#!/usr/bin/env bash
# GPT Lab's GPU check (built by `npm run gpu-bundle`): unpacks Node, the throughput bench and Dawn, points Vulkan at
# the GPU's driver, and prints one JSON object on stdout: the bench on webgpu and on wasm for each config, and the
# wasm bench at several thread counts (its matmuls on the bundled BLAS addon, with the system's OpenBLAS or the
# bundled one). The bench's tables go to stderr. The CLI is not in the bundle, so the user's path is not measured.
#
#   ./run.sh [--configs S,M,L] [--steps 20] [--warmup 3] [--threads 1,2,4,8,16] [--icd /path/to/icd.json] [--keep DIR]
#
# Needs: Linux x64, a GPU with a Vulkan driver (NVIDIA, AMD, Intel). Optional: /usr/bin/python3 with torch for the
# PyTorch ratio column. --icd overrides the driver search; VK_ICD_FILENAMES set beforehand is respected.
set -euo pipefail

configs=S,M,L steps=20 warmup=3 threads=1,2,4,8,16 icd=${VK_ICD_FILENAMES:-} keep=
while [ $# -gt 0 ]; do
  case "$1" in
    --configs) configs=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --icd) icd=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "run.sh: unknown option $1 (see the comment at the top of this file)" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "$keep" ]; then work=$keep; mkdir -p "$work"; else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
tar -xJf "$here/payload.tar.xz" -C "$work"

# The Vulkan loader's ICD manifests, where the loader itself looks (and where NVIDIA's container toolkit puts them).
find_icd() {
  local dirs=() d f
  IFS=: read -r -a xdg_config <<<"${XDG_CONFIG_DIRS:-/etc/xdg}"
  IFS=: read -r -a xdg_data <<<"${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
  for d in "${xdg_config[@]}"; do dirs+=("$d/vulkan/icd.d"); done
  dirs+=(/etc/vulkan/icd.d "${XDG_DATA_HOME:-$HOME/.local/share}/vulkan/icd.d")
  for d in "${xdg_data[@]}"; do dirs+=("$d/vulkan/icd.d"); done
  local found=()
  for d in "${dirs[@]}"; do for f in "$d"/*.json; do [ -f "$f" ] && found+=("$f"); done; done
  # Every hardware driver, NVIDIA's first, as one list (Mesa installs Intel and AMD manifests side by side; the loader
  # skips those without their GPU); CPU rasterisers (lavapipe/llvmpipe, SwiftShader) never.
  local nvidia=() others=()
  for f in "${found[@]}"; do
    case "$(basename "$f")" in
      *nvidia*) nvidia+=("$f") ;;
      *lvp*|*llvmpipe*|*swiftshader*) ;;
      *) others+=("$f") ;;
    esac
  done
  local list=("${nvidia[@]}" "${others[@]}")
  [ ${#list[@]} -gt 0 ] && (IFS=:; echo "${list[*]}")
}
[ -n "$icd" ] || icd=$(find_icd || true)
if [ -n "$icd" ]; then
  export VK_ICD_FILENAMES=$icd
  echo "run.sh: Vulkan drivers $icd" >&2
else
  echo "run.sh: no Vulkan ICD manifest found in the standard directories; the loader's default search decides" >&2
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$work/xdg}
mkdir -p "$XDG_RUNTIME_DIR"
# The bundled Vulkan loader only where the system has none.
if ! { command -v ldconfig >/dev/null && ldconfig -p | grep -q 'libvulkan\.so\.1 '; } && [ -d "$work/lib" ]; then
  export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
export GPT_LAB_GRADIENT_WORKER=$work/gradientWorker.mjs
if [ -d "$work/blas" ]; then
  export GPT_LAB_BLAS_ADDON=$work/blas/gpt_lab_blas.node
  # The bundled OpenBLAS (and its libgfortran, libgomp) only where the system has none.
  if ! { command -v ldconfig >/dev/null && ldconfig -p | grep -q 'libopenblas\.so\.0 '; }; then
    export GPT_LAB_BLAS_LIBRARY=$work/blas/libopenblas.so.0
    export LD_LIBRARY_PATH="$work/blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi

bench() { "$work/node" "$work/bench.mjs" --configs "$configs" --steps "$steps" --warmup "$warmup" --user-steps 0 "$@" >&2; }
bench --backend webgpu --threads 1 --json "$work/webgpu.json"
bench --backend wasm --threads 1 --json "$work/wasm.json"
bench --backend wasm --threads "$threads" --torch off --json "$work/threads.json"
"$work/node" -e '
  const fs = require("node:fs");
  const read = (name) => JSON.parse(fs.readFileSync(`${process.argv[1]}/${name}.json`, "utf8"));
  process.stdout.write(JSON.stringify({ icd: process.env.VK_ICD_FILENAMES ?? null, webgpu: read("webgpu"), wasm: read("wasm"), wasmThreads: read("threads") }, null, 2) + "\n");
' "$work"

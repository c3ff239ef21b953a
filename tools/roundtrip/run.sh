#!/usr/bin/env bash
# Runs tapeml's export round trips end to end (see tools/roundtrip/main.go):
#   1. tapeml exports the four models (or -checkpoint's) to safetensors and ONNX, with tapeml's outputs;
#   2. PyTorch loads each safetensors file (strict) and compares; onnx.checker checks each ONNX file;
#   3. ONNX Runtime (npm's onnxruntime-node) runs each ONNX file and compares;
#   4. weights PyTorch saved without tapeml metadata are imported back and compared.
# Needs: apt-get install python3-torch python3-onnx nodejs npm
# Usage: bash tools/roundtrip/run.sh [DIR] [-checkpoint RUN_OR_CHECKPOINT]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-$(mktemp -d /tmp/tapeml-roundtrip.XXXXXX)}
shift || true
python=/usr/bin/python3 # Debian's, which has python3-torch and python3-onnx

go run ./tools/roundtrip -out "$dir" "$@"
"$python" tools/pytorch/roundtrip.py "$dir"
if [ ! -d tools/onnx/node_modules/onnxruntime-node ]; then
	(cd tools/onnx && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --silent)
fi
for model in "$dir"/*/; do
	kind=$(basename "$model")
	[ -f "$model/model.onnx" ] || continue
	node tools/onnx/run.mjs "$model/model.onnx" "$model/io.json" | sed "s/^/$kind onnxruntime /"
done
go run ./tools/roundtrip -out "$dir" -check-import
echo "round trips passed: $dir"

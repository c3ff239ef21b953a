// Runs an ONNX model in onnxruntime-node and compares its outputs with the
// expected ones.
//
//   node run.mjs MODEL.onnx IO.json [--tol=1e-4]
//
// IO.json holds the inputs to feed and the outputs to expect:
//
//   {"inputs":  {"ids":   {"dtype": "int64",   "shape": [4, 100], "data": [...]}},
//    "outputs": {"probs": {"dtype": "float32", "shape": [4, 1],   "data": [...]}}}
//
// Only the outputs listed are compared. For each it prints the shape and the
// largest absolute difference; the exit status is 1 when a shape differs, a
// value is NaN on one side only, or a difference exceeds the tolerance, and
// 2 when the files cannot be used.

import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

const typed = {
  float32: (d) => Float32Array.from(d),
  float64: (d) => Float64Array.from(d),
  int32: (d) => Int32Array.from(d),
  int64: (d) => BigInt64Array.from(d, (x) => BigInt(x)),
  bool: (d) => Uint8Array.from(d, (x) => (x ? 1 : 0)),
};

function fail(msg) {
  console.error(`run.mjs: ${msg}`);
  process.exit(2);
}

function parseArgs(argv) {
  let tol = 1e-4;
  const files = [];
  for (const a of argv) {
    if (a.startsWith('--tol=')) {
      tol = Number(a.slice('--tol='.length));
      if (!(tol >= 0)) fail(`bad tolerance ${a}`);
    } else {
      files.push(a);
    }
  }
  if (files.length !== 2) fail('usage: node run.mjs MODEL.onnx IO.json [--tol=1e-4]');
  return { model: files[0], io: files[1], tol };
}

function tensorOf(name, t) {
  const make = typed[t.dtype];
  if (!make) fail(`input "${name}": unsupported dtype ${t.dtype} (want one of ${Object.keys(typed).join(', ')})`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) fail(`input "${name}": shape [${t.shape}] needs ${n} values, data has ${t.data.length}`);
  return new ort.Tensor(t.dtype, make(t.data), t.shape);
}

const { model, io, tol } = parseArgs(process.argv.slice(2));
let spec;
try {
  spec = JSON.parse(readFileSync(io, 'utf8'));
} catch (e) {
  fail(`${io}: ${e.message}`);
}
if (!spec.inputs || !spec.outputs) fail(`${io}: expected "inputs" and "outputs" objects`);

let session;
try {
  session = await ort.InferenceSession.create(model);
} catch (e) {
  fail(`${model}: onnxruntime cannot load it: ${e.message}`);
}
for (const name of Object.keys(spec.outputs)) {
  if (!session.outputNames.includes(name)) fail(`${io}: output "${name}" is not one of the model's (${session.outputNames.join(', ')})`);
}
const feeds = {};
for (const [name, t] of Object.entries(spec.inputs)) feeds[name] = tensorOf(name, t);

let results;
try {
  results = await session.run(feeds, Object.keys(spec.outputs));
} catch (e) {
  console.error(`run.mjs: ${model}: onnxruntime failed: ${e.message}`);
  process.exit(1);
}

let ok = true;
for (const [name, want] of Object.entries(spec.outputs)) {
  const got = results[name];
  const shape = `[${got.dims.join(', ')}]`;
  if (got.dims.length !== want.shape.length || got.dims.some((d, i) => d !== want.shape[i])) {
    console.log(`${name}: shape ${shape}, expected [${want.shape.join(', ')}]  FAIL`);
    ok = false;
    continue;
  }
  let max = 0;
  let nanMismatch = 0;
  for (let i = 0; i < want.data.length; i++) {
    const g = Number(got.data[i]);
    const w = want.data[i] === null ? NaN : Number(want.data[i]); // JSON has no NaN
    if (Number.isNaN(g) || Number.isNaN(w)) {
      if (Number.isNaN(g) !== Number.isNaN(w)) nanMismatch++;
      continue;
    }
    max = Math.max(max, Math.abs(g - w));
  }
  const pass = max <= tol && nanMismatch === 0;
  ok &&= pass;
  const nan = nanMismatch ? `, ${nanMismatch} NaN mismatches` : '';
  console.log(`${name}: shape ${shape}, max |diff| = ${max.toExponential(3)}${nan}  ${pass ? 'ok' : `FAIL (tol ${tol})`}`);
}
process.exit(ok ? 0 : 1);

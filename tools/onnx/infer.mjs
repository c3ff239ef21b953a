// Runs an ONNX model in onnxruntime-node on inputs and writes its outputs,
// for comparisons that are not a tolerance (top-1 agreement of an int8
// model: internal/testutil/ortrun.Infer, tools/qdqcheck).
//
//   node infer.mjs MODEL.onnx IN.json OUT.json [--batch=N] [--threads=N] [--optimized=FILE]
//
// IN.json holds the inputs as run.mjs's "inputs" (the same dtypes), each
// with the examples along the first axis. With --batch the examples run
// in batches of at most N (as a server batches them; a dynamic
// quantization's scale depends on the batch), and the outputs are
// concatenated. OUT.json gets every output of the model:
// {"logits": {"dtype": "float32", "shape": [n, c], "data": [...]}, ...}.
// --optimized writes the graph ONNX Runtime runs after its optimizations
// (all levels), to see which ops it fused. Exit status 2 when the files
// cannot be used, 1 when ONNX Runtime fails or an output is NaN.

import { readFileSync, writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

const typed = {
  float32: (d) => Float32Array.from(d),
  float64: (d) => Float64Array.from(d),
  int32: (d) => Int32Array.from(d),
  int64: (d) => BigInt64Array.from(d, (x) => BigInt(x)),
  bool: (d) => Uint8Array.from(d, (x) => (x ? 1 : 0)),
};

function fail(msg) {
  console.error(`infer.mjs: ${msg}`);
  process.exit(2);
}

let batch = 0;
let threads = 0;
let optimized = '';
const files = [];
for (const a of process.argv.slice(2)) {
  if (a.startsWith('--batch=')) batch = Number(a.slice(8));
  else if (a.startsWith('--threads=')) threads = Number(a.slice(10));
  else if (a.startsWith('--optimized=')) optimized = a.slice(12);
  else files.push(a);
}
if (files.length !== 3 || !(batch >= 0) || !(threads >= 0)) fail('usage: node infer.mjs MODEL.onnx IN.json OUT.json [--batch=N] [--threads=N] [--optimized=FILE]');
const [model, inPath, outPath] = files;

let spec;
try {
  spec = JSON.parse(readFileSync(inPath, 'utf8'));
} catch (e) {
  fail(`${inPath}: ${e.message}`);
}
let n = -1;
for (const [name, t] of Object.entries(spec)) {
  if (!typed[t.dtype]) fail(`input "${name}": unsupported dtype ${t.dtype}`);
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape.length === 0 || t.data.length !== size) fail(`input "${name}": shape [${t.shape}] needs ${size} values, data has ${t.data.length}`);
  if (n >= 0 && t.shape[0] !== n) fail(`input "${name}": ${t.shape[0]} examples, another input has ${n}`);
  n = t.shape[0];
}
if (n < 0) fail(`${inPath}: no inputs`);

const options = { graphOptimizationLevel: 'all' };
if (threads > 0) Object.assign(options, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
if (optimized) options.optimizedModelFilePath = optimized;
let session;
try {
  session = await ort.InferenceSession.create(model, options);
} catch (e) {
  fail(`${model}: onnxruntime cannot load it: ${e.message}`);
}

const step = batch > 0 ? batch : n;
const out = {};
for (let from = 0; from < n; from += step) {
  const to = Math.min(n, from + step);
  const feeds = {};
  for (const [name, t] of Object.entries(spec)) {
    const w = t.data.length / n;
    feeds[name] = new ort.Tensor(t.dtype, typed[t.dtype](t.data.slice(from * w, to * w)), [to - from, ...t.shape.slice(1)]);
  }
  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    console.error(`infer.mjs: ${model}: onnxruntime failed: ${e.message}`);
    process.exit(1);
  }
  for (const [name, r] of Object.entries(results)) {
    const o = (out[name] ??= { dtype: r.type, shape: [0, ...r.dims.slice(1)], data: [] });
    o.shape[0] += r.dims[0];
    for (const v of r.data) {
      if (Number.isNaN(Number(v))) { // JSON has no NaN, and no model of tapeml's outputs one
        console.error(`infer.mjs: ${model}: output "${name}" is NaN in batch ${from}–${to}`);
        process.exit(1);
      }
      o.data.push(Number(v));
    }
  }
}
writeFileSync(outPath, JSON.stringify(out));

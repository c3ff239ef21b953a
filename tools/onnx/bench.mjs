// Measures ONNX Runtime's inference speed on an exported model, as the
// anchor of tapeml's inference benchmark (tools/inferbench).
//
//   node bench.mjs MODEL.onnx INPUTS.json --threads=2 --seconds=3
//
// INPUTS.json gives one example batch per batch size to time, under its
// size: {"32": {"ids": {"dtype": "int64", "shape": [32, 100], "data": [...]}}, "1": {...}}.
// For each batch size it runs the model repeatedly (after a warm-up) and
// prints one JSON line: {"batch": 32, "runs": R, "samples_per_s": S,
// "p50_ms": P, "p99_ms": Q}. The session uses --threads intra-op threads
// and one inter-op thread, sequential execution, all graph optimizations.

import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

const typed = {
  float32: (d) => Float32Array.from(d),
  int64: (d) => BigInt64Array.from(d, (x) => BigInt(x)),
};

function fail(msg) {
  console.error(`bench.mjs: ${msg}`);
  process.exit(2);
}

let threads = 1;
let seconds = 3;
const files = [];
for (const a of process.argv.slice(2)) {
  if (a.startsWith('--threads=')) threads = Number(a.slice(10));
  else if (a.startsWith('--seconds=')) seconds = Number(a.slice(10));
  else files.push(a);
}
if (files.length !== 2 || !(threads >= 1) || !(seconds > 0)) fail('usage: node bench.mjs MODEL.onnx INPUTS.json --threads=N --seconds=S');

const spec = JSON.parse(readFileSync(files[1], 'utf8'));
const session = await ort.InferenceSession.create(files[0], {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

for (const [batch, inputs] of Object.entries(spec)) {
  const feeds = {};
  for (const [name, t] of Object.entries(inputs)) {
    const make = typed[t.dtype];
    if (!make) fail(`input ${name}: dtype ${t.dtype}`);
    feeds[name] = new ort.Tensor(t.dtype, make(t.data), t.shape);
  }
  for (let i = 0; i < 5; i++) await session.run(feeds); // warm-up
  const times = [];
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds || times.length < 10) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const t1 = process.hrtime.bigint();
    times.push(Number(t1 - t0) / 1e6);
    elapsed = Number(t1 - start) / 1e9;
  }
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  console.log(JSON.stringify({
    batch: Number(batch), runs: times.length,
    samples_per_s: (Number(batch) * times.length) / elapsed,
    p50_ms: q(0.5), p99_ms: q(0.99),
  }));
}

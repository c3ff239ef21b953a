// Measures ONNX Runtime's inference speed on an exported model, as the
// anchor of tapeml's inference benchmark (tools/inferbench).
//
//   node bench.mjs MODEL.onnx INPUTS.json --threads=2 --seconds=3 [--stdin]
//
// With --stdin it prints {"ready":true} once the session is warm, then
// measures one batch size per input line "BATCH SECONDS [WARMUP_SECONDS]"
// (untimed runs for WARMUP_SECONDS first).
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
let interactive = false;
const files = [];
for (const a of process.argv.slice(2)) {
  if (a.startsWith('--threads=')) threads = Number(a.slice(10));
  else if (a.startsWith('--seconds=')) seconds = Number(a.slice(10));
  else if (a === '--stdin') interactive = true;
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

const feedsBySize = {};
for (const [batch, inputs] of Object.entries(spec)) {
  const feeds = {};
  for (const [name, t] of Object.entries(inputs)) {
    const make = typed[t.dtype];
    if (!make) fail(`input ${name}: dtype ${t.dtype}`);
    feeds[name] = new ort.Tensor(t.dtype, make(t.data), t.shape);
  }
  for (let i = 0; i < 5; i++) await session.run(feeds); // warm-up
  feedsBySize[batch] = feeds;
}

// measure runs one batch size for the given seconds and prints its line.
async function measure(batch, secs, warmSecs = 0) {
  const feeds = feedsBySize[batch];
  if (!feeds) fail(`no inputs for batch ${batch}`);
  // Untimed runs first, so that the window starts warm whatever ran before.
  for (const w0 = process.hrtime.bigint(); Number(process.hrtime.bigint() - w0) / 1e9 < warmSecs;) await session.run(feeds);
  const times = [];
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < secs || times.length < 10) {
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

if (!interactive) {
  for (const batch of Object.keys(feedsBySize)) await measure(batch, seconds);
} else {
  // One request per stdin line, "BATCH SECONDS [WARMUP_SECONDS]", so that
  // a caller can interleave these measurements with its own under the same
  // load.
  console.log(JSON.stringify({ ready: true }));
  const { createInterface } = await import('node:readline');
  for await (const line of createInterface({ input: process.stdin })) {
    const [batch, secs, warm] = line.trim().split(/\s+/);
    if (!batch) continue;
    await measure(batch, Number(secs), Number(warm ?? 0));
  }
}

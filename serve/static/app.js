"use strict";
// The page speaks the Open Inference Protocol v2 like any client:
// POST /v2/repository/index lists the models, GET /v2/models/NAME gives a
// version's inputs and classes, POST .../infer classifies, recommends
// (inputs user and n) or lists similar items (item and n), and POST
// .../explain attributes the prediction to the input.
// Server and user text reaches the page through textContent only.
const $ = (id) => document.getElementById(id);
let index = [], meta = null, imageB64 = null;
let last = null; // what the shown result classified: {path, input}
let explainSeq = 0; // bumped whenever the shown result changes, so a late explanation is dropped
let recSeq = 0, similarSeq = 0; // the same for recommendations and similar items

async function call(method, path, body) {
  const r = await fetch(path, {method, headers: {"Content-Type": "application/json"}, body: body && JSON.stringify(body)});
  const j = await r.json().catch(() => null);
  if (!r.ok) throw new Error((j && j.error) || `${r.status} ${r.statusText}`);
  if (j === null) throw new Error("the server's answer is not JSON");
  return j;
}

const oneLine = (s) => String(s).replace(/\s+/g, " ").trim();

function option(sel, value, text) {
  const o = document.createElement("option");
  o.value = value; o.textContent = text;
  sel.appendChild(o);
}

async function loadModels() {
  index = (await call("POST", "/v2/repository/index")).filter((e) => e.state === "READY");
  const names = [...new Set(index.map((e) => e.name))];
  $("model").innerHTML = "";
  names.forEach((n) => option($("model"), n, n));
  await modelChanged();
}

async function modelChanged() {
  const name = $("model").value;
  $("version").innerHTML = "";
  index.filter((e) => e.name === name).forEach((e) => option($("version"), e.version, e.version));
  await versionChanged();
}

async function versionChanged() {
  $("result").classList.add("hidden");
  clearExplanation();
  clearRecommendations();
  $("error").textContent = "";
  const name = $("model").value, v = $("version").value;
  if (!name || !v) { $("go").disabled = true; return; }
  meta = await call("GET", `/v2/models/${encodeURIComponent(name)}/versions/${v}`);
  const inputs = meta.inputs.map((i) => i.name);
  const text = inputs.includes("text"), image = inputs.includes("image");
  const rec = inputs.includes("user") && inputs.includes("n"), similar = rec && inputs.includes("item");
  $("kind").textContent = meta.platform;
  $("text-input").classList.toggle("hidden", !text);
  $("image-input").classList.toggle("hidden", !image);
  $("rec-input").classList.toggle("hidden", !rec);
  $("similar-input").classList.toggle("hidden", !similar);
  $("go").textContent = rec ? "Recommend" : "Classify";
  $("go").disabled = !(text || image || rec);
}

function clearRecommendations() {
  recSeq++; similarSeq++;
  $("rec-result").classList.add("hidden");
  $("similar-result").classList.add("hidden");
  $("similar-error").textContent = "";
  $("recs").tBodies[0].replaceChildren();
  $("similars").tBodies[0].replaceChildren();
}

const isRecommender = () => meta && meta.inputs.some((i) => i.name === "user");
const modelPath = () => `/v2/models/${encodeURIComponent($("model").value)}/versions/${encodeURIComponent($("version").value)}`;

// listN reads the n field: a whole number from 1 (the server bounds it).
function listN() {
  const v = $("n").value.trim();
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 2147483647) throw new Error(`items: ${JSON.stringify(v)} is not a whole number from 1`);
  return Number(v);
}

// ranked is a list answer (user and n, or item and n) as rows: its
// outputs items, titles, scores, popularity and, for models of ratings,
// ratings, with ranked_by and meaning.
function ranked(res) {
  const out = Object.fromEntries(res.outputs.map((o) => [o.name, o]));
  for (const name of ["items", "titles", "scores", "popularity", "ranked_by", "meaning"]) {
    if (!out[name]) throw new Error(`the answer has no output ${JSON.stringify(name)}`);
  }
  const rows = out.items.data.map((item, i) => ({
    item: String(item), title: String(out.titles.data[i] ?? ""), score: out.scores.data[i],
    popularity: out.popularity.data[i], rating: out.ratings ? out.ratings.data[i] : null,
  }));
  return {rows, rankedBy: String(out.ranked_by.data[0]), meaning: String(out.meaning.data[0]), ratings: !!out.ratings};
}

function cell(row, text, numeric) {
  const td = document.createElement("td");
  td.textContent = text;
  if (numeric) td.className = "n";
  row.appendChild(td);
  return td;
}

// recommend lists the user's top n with titles and the model's scores,
// named by ranked_by; for a user the model does not know, the server
// answers with the most popular items, and the page says so.
async function recommend() {
  clearRecommendations();
  $("error").textContent = "";
  const seq = recSeq, user = $("user").value.trim();
  try {
    if (user === "") throw new Error("type a user id");
    const n = listN();
    const res = await call("POST", `${modelPath()}/infer`, {inputs: [
      {name: "user", datatype: "BYTES", shape: [1], data: [user]},
      {name: "n", datatype: "INT32", shape: [1], data: [n]},
    ]});
    if (seq !== recSeq) return;
    const r = ranked(res), fallback = r.rankedBy === "popularity";
    $("rec-score").textContent = fallback ? "score" : r.rankedBy;
    $("rec-score").classList.toggle("hidden", fallback);
    $("rec-rating").classList.toggle("hidden", !r.ratings || fallback);
    const body = $("recs").tBodies[0];
    r.rows.forEach((x, i) => {
      const tr = document.createElement("tr");
      cell(tr, String(i + 1), true);
      cell(tr, x.item);
      cell(tr, x.title);
      if (!fallback) cell(tr, x.score.toFixed(4), true);
      if (r.ratings && !fallback) cell(tr, x.rating.toFixed(2), true);
      cell(tr, String(x.popularity), true);
      const b = document.createElement("button");
      b.textContent = "similar";
      b.addEventListener("click", () => { $("item").value = x.item; similar(); });
      cell(tr, "").appendChild(b);
      body.appendChild(tr);
    });
    $("rec-note").replaceChildren();
    const note = document.createElement("span");
    if (fallback) {
      note.className = "warn";
      note.textContent = `User ${JSON.stringify(user)} is not in the model: these are the most popular items (popularity: ${r.meaning}), not recommendations for this user.`;
    } else {
      note.textContent = `${r.rows.length} items for user ${JSON.stringify(user)}, ranked by ${r.rankedBy}: ${r.meaning}.` +
        (r.ratings && r.rankedBy !== "predicted rating" ? " The predicted rating is shown beside it; it does not order the list." : "") +
        " Items the user already has are left out.";
    }
    $("rec-note").appendChild(note);
    if (r.rows.length === 0) $("rec-note").appendChild(document.createTextNode(" (no items to recommend)"));
    $("rec-result").classList.remove("hidden");
  } catch (e) {
    if (seq === recSeq) $("error").textContent = oneLine(e.message);
  }
}

// similar lists the n items most like the one in the item field.
async function similar() {
  similarSeq++;
  const seq = similarSeq, item = $("item").value.trim();
  $("similar-error").textContent = "";
  $("similar-result").classList.add("hidden");
  $("similars").tBodies[0].replaceChildren();
  try {
    if (item === "") throw new Error("type an item id");
    const n = listN();
    const res = await call("POST", `${modelPath()}/infer`, {inputs: [
      {name: "item", datatype: "BYTES", shape: [1], data: [item]},
      {name: "n", datatype: "INT32", shape: [1], data: [n]},
    ]});
    if (seq !== similarSeq) return;
    const r = ranked(res);
    $("similar-score").textContent = r.rankedBy;
    const body = $("similars").tBodies[0];
    r.rows.forEach((x, i) => {
      const tr = document.createElement("tr");
      cell(tr, String(i + 1), true);
      cell(tr, x.item);
      cell(tr, x.title);
      cell(tr, x.score.toFixed(4), true);
      cell(tr, String(x.popularity), true);
      body.appendChild(tr);
    });
    $("similar-note").textContent = `Items most like ${JSON.stringify(item)}, by ${r.rankedBy}: ${r.meaning}.`;
    $("similar-result").classList.remove("hidden");
  } catch (e) {
    if (seq === similarSeq) $("similar-error").textContent = oneLine(e.message);
  }
}

async function classify() {
  $("error").textContent = "";
  clearExplanation();
  const name = $("model").value, v = $("version").value;
  let input;
  if (meta.inputs.some((i) => i.name === "text")) {
    input = {name: "text", datatype: "BYTES", shape: [1], data: [$("text").value]};
  } else {
    if (!imageB64) { $("error").textContent = "drop an image first"; return; }
    input = {name: "image", datatype: "BYTES", shape: [1], data: [imageB64]};
  }
  const path = `/v2/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(v)}`;
  const seq = explainSeq;
  try {
    const res = await call("POST", `${path}/infer`, {inputs: [input]});
    if (seq !== explainSeq) return; // a newer classification, or another model or version, meanwhile
    const out = Object.fromEntries(res.outputs.map((o) => [o.name, o]));
    const probs = out.probs.data, cls = out.class.data[0], label = out.label.data[0];
    $("class").textContent = cls;
    $("prob").textContent = `(p = ${probs[label].toFixed(3)})`;
    $("probs").innerHTML = "";
    (meta.classes || []).forEach((c, i) => {
      const row = document.createElement("div");
      row.className = "bar";
      const n = document.createElement("span"); n.className = "name"; n.textContent = c;
      const b = document.createElement("div"); b.style.width = `${Math.round(probs[i] * 20)}rem`;
      const p = document.createElement("span"); p.textContent = probs[i].toFixed(3);
      row.append(n, b, p);
      $("probs").appendChild(row);
    });
    last = {path, input};
    $("explain").disabled = false;
    $("result").classList.remove("hidden");
  } catch (e) {
    $("error").textContent = e.message;
  }
}

// Explanations: the look of tapeml's own HTML rendering (explain_render.go).
const FOR = [0, 160, 60], AGAINST = [220, 30, 30]; // text backgrounds

function clearExplanation() {
  explainSeq++;
  last = null;
  $("explain").disabled = true;
  $("explain-status").textContent = "";
  $("explain-error").textContent = "";
  $("explain-error").title = "";
  $("explanation").classList.add("hidden");
  $("tokens").replaceChildren();
  $("explain-meta").replaceChildren();
  $("heat").removeAttribute("src");
  $("heat").classList.add("hidden");
}

// favours: does a score speak for the predicted class? (Attribution.Favours)
function favours(ex, score) {
  return ex.target === ex.prediction.Class ? score > 0 : score < 0;
}

// score formats like Go's %+.4g closely enough for a tooltip.
const score = (x) => (x >= 0 ? "+" : "") + String(Number(x.toPrecision(4)));
const num = (x, digits) => String(Number(x.toPrecision(digits)));

function metaLine(text, cls) {
  const p = document.createElement("p");
  p.textContent = text;
  if (cls) p.className = cls;
  $("explain-meta").appendChild(p);
}

async function explain() {
  if (!last) return;
  const seq = explainSeq, shown = last;
  $("explain").disabled = true;
  $("explain-error").textContent = "";
  $("explain-status").textContent = "explaining…";
  try {
    const res = await call("POST", `${shown.path}/explain`, {inputs: [shown.input]});
    if (seq !== explainSeq) return;
    const item = res.explanations[0], ex = item.explanation;
    $("tokens").replaceChildren();
    $("explain-meta").replaceChildren();
    const cls = ex.prediction.Class;
    $("key-for").textContent = `for ${cls}`;
    $("key-for").style.background = `rgba(${FOR},.6)`;
    $("key-against").textContent = `against ${cls}`;
    $("key-against").style.background = `rgba(${AGAINST},.6)`;
    if (Array.isArray(ex.tokens)) {
      showTokens(ex);
    } else {
      await showHeat(item);
      if (seq !== explainSeq) return;
    }
    let m = `Method ${ex.method}, baseline ${ex.baseline}`;
    if (ex.method === "ig") m += `, ${ex.steps} ${ex.quadrature} points; explained: the logit of ${ex.target}` + (ex.sign < 0 ? " (negated)" : "");
    if (typeof item.relative_delta === "number") m += `; completeness delta ${num(ex.delta, 3)} (${(100 * item.relative_delta).toFixed(2)}% of f(x) − f(baseline))`;
    metaLine(m + ".");
    if (item.converged === false) metaLine("Not converged: the attributions do not add up to f(x) − f(baseline) within 1%; more steps would help.", "warn");
    if (ex.truncated > 0) metaLine(`The text was truncated to the model's length: ${ex.truncated} words at its ${ex.truncated_from || "end"} were not seen and are not shown.`, "warn");
    if (ex.unknown && ex.unknown.length > 0) {
      const shownWords = ex.unknown.slice(0, 20).join(" ") + (ex.unknown.length > 20 ? " …" : "");
      metaLine(`${ex.unknown.length} words are not in the model's vocabulary and were not seen by it: ${shownWords}`);
    }
    if (ex.note) metaLine(`The image was ${ex.note}.`);
    $("explain-status").textContent = "";
    $("explanation").classList.remove("hidden");
  } catch (e) {
    if (seq !== explainSeq) return;
    $("explain-status").textContent = "";
    $("explain-error").textContent = `explanation failed: ${oneLine(e.message)}`;
    $("explain-error").title = e.message;
    $("explain").disabled = false;
  }
}

// showTokens highlights each token the model saw: green for, red against
// the predicted class, alpha 0.85·|score|/max|score|, the score as title.
function showTokens(ex) {
  const largest = Math.max(0, ...ex.tokens.map((t) => Math.abs(t.score)));
  $("heat").classList.add("hidden");
  $("tokens").classList.remove("hidden");
  ex.tokens.forEach((t, i) => {
    if (i > 0) $("tokens").appendChild(document.createTextNode(" "));
    const s = document.createElement("span");
    s.className = "t";
    const alpha = largest > 0 ? 0.85 * Math.abs(t.score) / largest : 0;
    s.style.background = `rgba(${favours(ex, t.score) ? FOR : AGAINST},${alpha.toFixed(3)})`;
    s.title = score(t.score);
    s.textContent = t.token;
    $("tokens").appendChild(s);
  });
  if (ex.tokens.length === 0) $("tokens").textContent = "(the model saw no known words)";
}

// showHeat shows the server's heat map (the library's HeatMap: the image
// as the model saw it, and in gray with the scores blended over it), one
// PNG pixel per image pixel, scaled up without smoothing.
async function showHeat(item) {
  const ex = item.explanation;
  if (!item.heatmap || !(ex.width > 0)) throw new Error("the server sent no heat map");
  const img = $("heat");
  img.src = `data:image/png;base64,${item.heatmap}`;
  await img.decode();
  img.style.width = `${2 * ex.width * Math.max(1, Math.floor(192 / Math.max(ex.width, ex.height)))}px`;
  $("tokens").classList.add("hidden");
  img.classList.remove("hidden");
}

function readImage(file) {
  const r = new FileReader();
  r.onload = () => {
    imageB64 = r.result.split(",")[1];
    let img = $("drop").querySelector("img");
    if (!img) { img = document.createElement("img"); $("drop").appendChild(img); }
    img.src = r.result;
  };
  r.readAsDataURL(file);
}

$("model").addEventListener("change", () => modelChanged().catch((e) => { $("error").textContent = e.message; }));
$("version").addEventListener("change", () => versionChanged().catch((e) => { $("error").textContent = e.message; }));
$("go").addEventListener("click", () => (isRecommender() ? recommend() : classify()));
$("similar").addEventListener("click", similar);
for (const id of ["user", "n"]) $(id).addEventListener("keydown", (e) => { if (e.key === "Enter" && !$("go").disabled) recommend(); });
$("item").addEventListener("keydown", (e) => { if (e.key === "Enter") similar(); });
$("explain").addEventListener("click", explain);
$("file").addEventListener("change", (e) => e.target.files[0] && readImage(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault(); drop.classList.remove("over");
  if (e.dataTransfer.files[0]) readImage(e.dataTransfer.files[0]);
});
loadModels().catch((e) => { $("error").textContent = e.message; });

"use strict";
// The page speaks the Open Inference Protocol v2 like any client:
// POST /v2/repository/index lists the models, GET /v2/models/NAME gives a
// version's inputs and classes, POST .../infer classifies.
const $ = (id) => document.getElementById(id);
let index = [], meta = null, imageB64 = null;

async function call(method, path, body) {
  const r = await fetch(path, {method, headers: {"Content-Type": "application/json"}, body: body && JSON.stringify(body)});
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}

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
  $("error").textContent = "";
  const name = $("model").value, v = $("version").value;
  if (!name || !v) { $("go").disabled = true; return; }
  meta = await call("GET", `/v2/models/${encodeURIComponent(name)}/versions/${v}`);
  const inputs = meta.inputs.map((i) => i.name);
  const text = inputs.includes("text"), image = inputs.includes("image");
  $("kind").textContent = meta.platform;
  $("text-input").classList.toggle("hidden", !text);
  $("image-input").classList.toggle("hidden", !image);
  $("rec-input").classList.toggle("hidden", text || image);
  $("go").disabled = !(text || image);
}

async function classify() {
  $("error").textContent = "";
  const name = $("model").value, v = $("version").value;
  let input;
  if (meta.inputs.some((i) => i.name === "text")) {
    input = {name: "text", datatype: "BYTES", shape: [1], data: [$("text").value]};
  } else {
    if (!imageB64) { $("error").textContent = "drop an image first"; return; }
    input = {name: "image", datatype: "BYTES", shape: [1], data: [imageB64]};
  }
  try {
    const res = await call("POST", `/v2/models/${encodeURIComponent(name)}/versions/${v}/infer`, {inputs: [input]});
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
    $("result").classList.remove("hidden");
  } catch (e) {
    $("error").textContent = e.message;
  }
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
$("go").addEventListener("click", classify);
$("file").addEventListener("change", (e) => e.target.files[0] && readImage(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault(); drop.classList.remove("over");
  if (e.dataTransfer.files[0]) readImage(e.dataTransfer.files[0]);
});
loadModels().catch((e) => { $("error").textContent = e.message; });

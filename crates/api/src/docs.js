"use strict";
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
function example(schema, spec, depth) {
  if (!schema || depth > 4) return null;
  if (schema.$ref) return example(spec.components.schemas[schema.$ref.split("/").pop()], spec, depth + 1);
  // The schema's own example is the one a test sends to the server.
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.type === "object" && schema.properties) {
    const out = {};
    for (const k of schema.required || []) out[k] = example(schema.properties[k], spec, depth + 1);
    return out;
  }
  if (schema.type === "array") return [example(schema.items, spec, depth + 1)];
  if (schema.enum) return schema.enum[0];
  if (schema.type === "integer") return schema.minimum || 0;
  if (schema.type === "boolean") return false;
  if (schema.pattern === "^[A-Z]{3}$") return "USD";
  return "";
}
async function send(id) {
  const form = document.getElementById(id);
  let path = form.dataset.path;
  for (const input of form.querySelectorAll("input[data-param]")) {
    const v = input.value.trim();
    if (input.dataset.in === "path") path = path.replace("{" + input.dataset.param + "}", encodeURIComponent(v));
    else if (input.dataset.in === "query" && v) path += (path.includes("?") ? "&" : "?") + v;
  }
  const headers = {"content-type": "application/json"};
  const key = document.getElementById("key").value.trim();
  if (key) headers["authorization"] = "Bearer " + key;
  const idem = form.querySelector("input[data-idem]");
  if (idem && idem.value.trim()) headers["idempotency-key"] = idem.value.trim();
  const body = form.querySelector("textarea");
  const out = form.querySelector("pre");
  out.textContent = "…";
  try {
    const r = await fetch(path, {method: form.dataset.method.toUpperCase(), headers, body: body ? body.value : undefined});
    const text = await r.text();
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) {}
    const replayed = r.headers.get("idempotent-replayed") ? "  (Idempotent-Replayed: true)" : "";
    out.textContent = r.status + " " + r.statusText + replayed + "\n\n" + shown;
  } catch (e) { out.textContent = String(e); }
}
fetch("/openapi.json").then(r => r.json()).then(spec => {
  let html = "", n = 0;
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const id = "op" + (n++);
      const params = (op.parameters || []).filter(p => p.in === "path").map(p =>
        `<p>${esc(p.name)}: <input type="text" data-param="${esc(p.name)}" data-in="path"></p>`).join("");
      const query = method === "get" ? `<p>query: <input type="text" data-param="q" data-in="query" placeholder="limit=10&amp;starting_after=..."></p>` : "";
      const idem = (op.parameters || []).some(p => p.name === "Idempotency-Key")
        ? `<p>Idempotency-Key: <input type="text" data-idem="1"></p>` : "";
      let body = "";
      if (op.requestBody) {
        const schema = op.requestBody.content["application/json"].schema;
        body = `<textarea>${esc(JSON.stringify(example(schema, spec, 0), null, 2))}</textarea>`;
      } else if (method === "post") body = `<textarea>{}</textarea>`;
      html += `<details><summary><span class="m ${method}">${method.toUpperCase()}</span><code>${esc(path)}</code> — ${esc(op.summary)}
        <span class="role">${esc(op.description || "no key needed")}</span></summary>
        <div class="body" id="${id}" data-path="${esc(path)}" data-method="${method}">${params}${query}${idem}${body}
        <button data-send="${id}">Send</button><pre></pre></div></details>`;
    }
  }
  document.getElementById("ops").innerHTML = html;
  for (const b of document.querySelectorAll("button[data-send]")) b.addEventListener("click", () => send(b.dataset.send));
}).catch(e => { document.getElementById("ops").textContent = "Could not load /openapi.json: " + e; });

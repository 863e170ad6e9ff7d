// An offline listing of /openapi.json: each operation with its parameters, body and answers.
"use strict";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function operation(path, method, op) {
  const box = el("section", "op");
  const head = el("h2");
  head.append(el("span", `method ${method}`, method.toUpperCase()), el("code", "", path));
  box.append(head);
  if (op.summary) box.append(el("p", "summary", op.summary));
  if (op.description) box.append(el("p", "muted", op.description));
  const params = op.parameters || [];
  if (params.length) {
    const list = el("ul", "params");
    for (const p of params) {
      const type = (p.schema && p.schema.type) || "";
      const extra = p.description ? ` — ${p.description}` : "";
      list.append(el("li", "", `${p.name} (${p.in}, ${type}${p.required ? ", required" : ""})${extra}`));
    }
    box.append(el("h3", "", "parameters"), list);
  }
  if (op.requestBody) {
    const types = Object.keys(op.requestBody.content || {}).join(", ");
    box.append(el("h3", "", "body"), el("p", "", `${op.requestBody.description || ""} [${types}]`));
  }
  const codes = Object.entries(op.responses || {}).map(([code, r]) => `${code} ${r.description || ""}`);
  box.append(el("h3", "", "answers"), el("p", "muted", codes.join(" · ")));
  return box;
}

async function main() {
  const target = document.getElementById("api");
  try {
    const spec = await (await fetch("/openapi.json")).json();
    target.replaceChildren(el("p", "muted", `${spec.info.title} ${spec.info.version}: ${spec.info.description || ""}`));
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(methods)) target.append(operation(path, method, op));
    }
  } catch (err) {
    target.replaceChildren(el("p", "status", `cannot read /openapi.json: ${err.message}`));
  }
}

main();

// Parses an AsyncAPI document with @asyncapi/parser (OpenAPI 3.0 schemas through
// @asyncapi/openapi-schema-parser) and prints, as one JSON object on stdout, what the parser
// says about it and each message's payload schema as the parser resolved it (JSON Schema):
//   {"diagnostics": [{"severity", "code", "message", "path"}], "payloads": {"<message id>": {...}}}
// A schema that contains itself (today's `codersdk.Chat` holds its `children`) is printed with
// a JSON Schema `$ref` to the enclosing schema's JSON pointer in the payload, where it recurs.
// Exit status: 0 when the document parsed, 1 when it did not (then "payloads" is empty).
// Usage: node asyncapi-check.mjs PATH
import { resolve } from "node:path";
import { Parser, fromFile } from "@asyncapi/parser";
import { OpenAPISchemaParser } from "@asyncapi/openapi-schema-parser";

const SEVERITY = ["error", "warning", "info", "hint"];

const path = process.argv[2];
if (!path) {
  console.error("usage: node asyncapi-check.mjs PATH");
  process.exit(2);
}

const parser = new Parser();
parser.registerSchemaParser(OpenAPISchemaParser());
const { document, diagnostics } = await fromFile(parser, resolve(path)).parse();

// The parser resolves every $ref into the objects themselves, so a recursive schema is a cycle
// of objects: JSON cannot hold it. Each object met again inside itself becomes a `$ref` to the
// pointer where it was first met on the way down.
function acyclic(value, path = "#", open = new Map()) {
  if (value === null || typeof value !== "object") return value;
  const recurs = open.get(value);
  if (recurs !== undefined) return { $ref: recurs };
  open.set(value, path);
  const step = (key) => `${path}/${String(key).replaceAll("~", "~0").replaceAll("/", "~1")}`;
  const copy = Array.isArray(value)
    ? value.map((item, index) => acyclic(item, step(index), open))
    : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, acyclic(item, step(key), open)]));
  open.delete(value);
  return copy;
}

const payloads = {};
if (document) {
  for (const message of document.allMessages()) {
    payloads[message.id()] = acyclic(message.payload()?.json() ?? null);
  }
}
const report = {
  diagnostics: diagnostics.map((d) => ({
    severity: SEVERITY[d.severity] ?? String(d.severity),
    code: String(d.code),
    message: d.message,
    path: d.path.join("/"),
  })),
  payloads,
};
// exitCode, not exit(): a pipe takes stdout asynchronously, and exit() would cut it short.
process.stdout.write(JSON.stringify(report) + "\n");
process.exitCode = document ? 0 : 1;

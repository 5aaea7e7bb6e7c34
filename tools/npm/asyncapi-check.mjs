// Parses an AsyncAPI document with @asyncapi/parser (OpenAPI 3.0 schemas through
// @asyncapi/openapi-schema-parser) and prints, as one JSON object on stdout, what the parser
// says about it and each message's payload schema as the parser resolved it (JSON Schema):
//   {"diagnostics": [{"severity", "code", "message", "path"}], "payloads": {"<message id>": {...}}}
// A recursive schema (today's `codersdk.Chat` holds its `children`) is not unrolled: the parser
// keeps that `$ref` as written in the referenced document (e.g. `#/components/schemas/...`).
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

const payloads = {};
if (document) {
  for (const message of document.allMessages()) {
    payloads[message.id()] = message.payload()?.json() ?? null;
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

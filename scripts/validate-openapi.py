#!/usr/bin/env python3
"""Validates an OpenAPI document with openapi-spec-validator (a real validator of the 3.1
specification), and checks what the validator does not: every operation has an operationId,
a summary and a success response, and every `$ref` resolves.

    python3 scripts/validate-openapi.py crates/cli/tests/snapshots/openapi.json

The snapshot is the document `/openapi.json` serves (the snapshot test compares them)."""
import json
import sys

from openapi_spec_validator import validate


def refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.append(v)
            else:
                refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)
    return out


def main(path):
    doc = json.load(open(path))
    validate(doc)
    problems = []
    schemas = doc.get("components", {}).get("schemas", {})
    for ref in refs(doc, []):
        name = ref.rsplit("/", 1)[-1]
        if not ref.startswith("#/components/schemas/") or name not in schemas:
            problems.append(f"unresolved $ref {ref}")
    ids = set()
    for route, ops in doc["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {route}"
            if not op.get("operationId"):
                problems.append(f"{where}: no operationId")
            elif op["operationId"] in ids:
                problems.append(f"{where}: operationId {op['operationId']} twice")
            ids.add(op.get("operationId"))
            if not op.get("summary"):
                problems.append(f"{where}: no summary")
            if not any(code.startswith("2") for code in op.get("responses", {})):
                problems.append(f"{where}: no success response")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"{path}: valid OpenAPI {doc['openapi']}, {len(ids)} operations")


if __name__ == "__main__":
    main(sys.argv[1])

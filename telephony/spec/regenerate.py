#!/usr/bin/env python3
"""Cut the part of Twilio's OpenAPI spec that the emulator checks requests against.

  python telephony/spec/regenerate.py PATH/TO/twilio_api_v2010.json

Reads Twilio's full 2010-04-01 spec (twilio/twilio-oai, spec/json/twilio_api_v2010.json) and writes
telephony/spec/twilio_api_v2010_subset.json: only the operations listed in OPERATIONS, with every
schema they reference (followed transitively) and the security scheme. Not needed at run time.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "twilio_api_v2010_subset.json"
ACCOUNT = "/2010-04-01/Accounts/{AccountSid}"
# The REST calls the product makes (callbacks/dialing.py) and the emulator answers.
OPERATIONS = {
    ACCOUNT + "/Calls.json": ("post", "get"),
    ACCOUNT + "/Calls/{Sid}.json": ("get", "post"),
    ACCOUNT + "/Messages.json": ("post",),
    ACCOUNT + "/Queues.json": ("get",),
    ACCOUNT + "/Queues/{Sid}.json": ("get",),
    ACCOUNT + "/Queues/{QueueSid}/Members.json": ("get",),
    ACCOUNT + "/Queues/{QueueSid}/Members/{CallSid}.json": ("get", "post"),
}
PATH_KEYS = ("servers", "description", "x-twilio")


def _refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def subset(full: dict) -> dict:
    paths = {}
    for path, methods in OPERATIONS.items():
        source = full["paths"][path]
        paths[path] = {k: source[k] for k in PATH_KEYS if k in source}
        paths[path].update({m: source[m] for m in methods})
    schemas: dict = {}
    wanted: set[str] = set()
    _refs(paths, wanted)
    while wanted - set(schemas):
        for name in sorted(wanted - set(schemas)):
            schemas[name] = full["components"]["schemas"][name]
            _refs(schemas[name], wanted)
    return {
        "openapi": full["openapi"],
        "info": full["info"],
        "servers": full.get("servers", []),
        "security": full.get("security", []),
        "components": {"securitySchemes": full["components"]["securitySchemes"],
                       "schemas": dict(sorted(schemas.items()))},
        "paths": paths,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    full = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    OUT.write_text(json.dumps(subset(full), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(OPERATIONS)} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

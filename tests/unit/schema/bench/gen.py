#!/usr/bin/env python3
"""Generate the schema validation benchmark: a schema shaped like a
normaliser's output object (nested objects, $ref, enum, pattern, ranges,
arrays) and N MiB of NDJSON items for it, about 2 % of them invalid.

    python3 gen.py OUTDIR [MiB]     writes OUTDIR/schema.json, OUTDIR/items.ndjson

Deterministic (fixed seed), so runs compare like with like."""
import json
import os
import random
import sys

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://whiskers.example/schemas/ipport.json",
    "type": "object",
    "required": ["object_type", "primary_key", "address", "protocol", "port", "state"],
    "additionalProperties": False,
    "properties": {
        "object_type": {"const": "IPPort"},
        "primary_key": {"type": "string", "minLength": 1, "maxLength": 512},
        "address": {"$ref": "#/$defs/address"},
        "protocol": {"enum": ["tcp", "udp", "sctp"]},
        "port": {"type": "integer", "minimum": 0, "maximum": 65535},
        "state": {"enum": ["open", "closed", "filtered", "unfiltered"]},
        "service": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]*$"},
                "product": {"type": ["string", "null"], "maxLength": 256},
                "version": {"type": ["string", "null"]},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            },
            "required": ["name"],
        },
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 64},
                 "maxItems": 32, "uniqueItems": True},
        "scan_profile": {"$ref": "#/$defs/scan_profile"},
    },
    "$defs": {
        "address": {
            "type": "object",
            "additionalProperties": False,
            "required": ["network", "address"],
            "properties": {
                "network": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                "address": {"type": "string",
                            "pattern": "^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$"},
            },
        },
        "scan_profile": {
            "type": "object",
            "required": ["level"],
            "properties": {
                "level": {"type": "integer", "minimum": 0, "maximum": 4},
                "source": {"type": "string"},
            },
        },
    },
}

SERVICES = ["http", "https", "ssh", "smtp", "dns", "imap", "pop3", "mysql", "postgresql", "rdp"]


def item(rng, bad):
    ip = ".".join(str(rng.randrange(256)) for _ in range(4))
    proto = rng.choice(["tcp", "udp"])
    port = rng.randrange(1, 65536)
    obj = {
        "object_type": "IPPort",
        "primary_key": f"IPPort|internet|{ip}|{proto}|{port}",
        "address": {"network": "internet", "address": ip},
        "protocol": proto,
        "port": port,
        "state": rng.choice(["open", "closed", "filtered"]),
        "service": {"name": rng.choice(SERVICES), "product": rng.choice([None, "nginx", "OpenSSH"]),
                    "version": rng.choice([None, "1.24.0", "9.2p1"]), "confidence": rng.random()},
        "tags": rng.sample(["web", "legacy", "tls", "internal", "dmz", "prod", "test"], 3),
        "scan_profile": {"level": rng.randrange(5), "source": "declared"},
    }
    if bad:
        kind = rng.randrange(4)
        if kind == 0:
            obj["port"] = 70000
        elif kind == 1:
            obj["address"]["address"] = "999.1.1.1"
        elif kind == 2:
            del obj["state"]
        else:
            obj["extra"] = True
    return obj


def main():
    out = sys.argv[1]
    mib = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    rng = random.Random(42)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "schema.json"), "w") as f:
        json.dump(SCHEMA, f, indent=1)
    size = 0
    with open(os.path.join(out, "items.ndjson"), "w") as f:
        while size < mib * 1024 * 1024:
            line = json.dumps(item(rng, rng.random() < 0.02), separators=(",", ":")) + "\n"
            f.write(line)
            size += len(line)


main()

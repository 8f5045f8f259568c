# Writes one JSON Schema per concrete octopoes OOI type, OUT_DIR/<Type>.json,
# from the models themselves (pydantic's model_json_schema in serialization
# mode: the shape NormalizerResults holds, the JSON mode dump the Python
# runtime sends). Run once when a runtime image is built, with the image's
# own interpreter and models:
#
#   python3 octopoes_schemas.py OUT_DIR
#
# whiskers then validates the objects of an OpenKAT normaliser that ships no
# schemas against these (`--schema-dir OUT_DIR`, docs/openkat.md). The
# schemas say nothing about references or natural keys: whiskers' own
# annotations (x-reference, x-natural-key) are not derived from the models.
# Octopoes' own annotations on reference fields (object_type,
# max_issue_scan_level, ...) are kept as "x-octopoes-<name>": whiskers
# refuses keywords it does not know.
import json
import os
import sys

from octopoes.models.types import get_concrete_types

DRAFT = "https://json-schema.org/draft/2020-12/schema"
KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "$anchor", "$comment", "title", "description", "default",
    "examples", "deprecated", "readOnly", "writeOnly", "type", "enum", "const", "format",
    "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "items", "prefixItems", "minItems", "maxItems",
    "uniqueItems", "contains", "properties", "patternProperties", "additionalProperties",
    "required", "minProperties", "maxProperties", "propertyNames", "anyOf", "allOf", "oneOf",
    "not", "if", "then", "else", "dependentRequired", "dependentSchemas",
}
SCHEMA_MAPS = {"properties", "$defs", "patternProperties", "dependentSchemas"}
SCHEMA_LISTS = {"anyOf", "allOf", "oneOf", "prefixItems"}
SCHEMA_ONE = {"items", "additionalProperties", "not", "if", "then", "else", "contains",
              "propertyNames"}


def annotate(schema):
    """Every keyword whiskers does not know becomes x-octopoes-<keyword>."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in SCHEMA_MAPS:
            value = {k: annotate(v) for k, v in value.items()}
        elif key in SCHEMA_LISTS:
            value = [annotate(v) for v in value]
        elif key in SCHEMA_ONE:
            value = annotate(value)
        out[key if key in KEYWORDS else "x-octopoes-" + key] = value
    return out


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    names = []
    for ooi_type in sorted(get_concrete_types(), key=lambda t: t.__name__):
        schema = annotate(ooi_type.model_json_schema(mode="serialization"))
        schema["$schema"] = DRAFT
        path = os.path.join(out_dir, ooi_type.__name__ + ".json")
        with open(path, "w") as f:
            f.write(json.dumps(schema, sort_keys=True, indent=1) + "\n")
        names.append(ooi_type.__name__)
    print("%d schemas in %s" % (len(names), out_dir), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])

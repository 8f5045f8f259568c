#!/usr/bin/env bash
# whiskers schema check --draft: the draft of a schema without "$schema"
# (docs/schema.md). Each draft is told apart by a keyword the others read
# differently: array-form "items" (draft 7 and 2019-09; a compile error in
# 2020-12) and "dependentRequired" (2019-09 and 2020-12; unknown in draft 7).
. "$(dirname "$0")/lib.sh"

cd "$T" || exit 1
echo '{"items": [{"type": "integer"}], "additionalItems": false}' >tuple.json
echo '{"dependentRequired": {"a": ["b"]}}' >dependent.json
echo '[1]' >one.json
echo '[1, 2]' >two.json
echo '{"a": 1}' >a-only.json

wh_run_raw schema check tuple.json one.json
expect "no --draft: 2020-12, array-form items is not a schema" rc=2 \
        "err~cannot use schema tuple.json"
wh_run_raw schema check --draft 2020-12 tuple.json one.json
expect "--draft 2020-12: the same" rc=2 "err~cannot use schema tuple.json"
for d in 7 2019-09; do
        wh_run_raw schema check --draft "$d" tuple.json one.json
        expect "--draft $d: array-form items, one integer valid" rc=0 "out=one.json: valid"
        wh_run_raw schema check --draft "$d" --json tuple.json two.json
        expect "--draft $d: additionalItems false refuses a second item" rc=1 \
                "out~\"keyword\":\"/additionalItems\""
done

wh_run_raw schema check --draft 7 dependent.json a-only.json
expect "--draft 7: dependentRequired is not a draft-07 keyword" rc=0 "out=a-only.json: valid" \
        "err~unknown keyword 'dependentRequired' ignored"
for d in 2019-09 2020-12; do
        wh_run_raw schema check --draft "$d" dependent.json a-only.json
        expect "--draft $d: dependentRequired asserts" rc=1 "out~a-only.json: invalid"
done

# "$schema" wins over --draft, both ways.
echo '{"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "integer"}],
       "additionalItems": false}' >tuple7.json
wh_run_raw schema check --draft 2020-12 tuple7.json two.json
expect "\$schema draft-07 wins over --draft 2020-12" rc=1 "out~two.json: invalid"
echo '{"$schema": "https://json-schema.org/draft/2020-12/schema",
       "dependentRequired": {"a": ["b"]}}' >dependent2020.json
wh_run_raw schema check --draft 7 dependent2020.json a-only.json
expect "\$schema 2020-12 wins over --draft 7" rc=1 "out~a-only.json: invalid"

# A $ref'd document without "$schema" is read in the chosen draft too.
echo '{"$ref": "tuple.json"}' >ref.json
wh_run_raw schema check --draft 7 ref.json two.json
expect "--draft applies to referenced documents" rc=1 "out~two.json: invalid"

wh_run_raw schema check --draft 4 tuple.json one.json
expect "--draft 4: refused, naming the choices" rc=2 "err~--draft wants 7, 2019-09 or 2020-12, not '4'"
wh_run_raw schema check --help
expect "--help documents --draft" rc=0 "out~--draft 7\|2019-09\|2020-12"
finish

// ajv (draft 2020-12) on the same NDJSON, for comparison with whiskers:
//   node ajv_bench.js OUTDIR          (needs `npm install ajv` on NODE_PATH)
// Prints parse-only and parse+validate throughput; best of 5 runs.
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020").default;
const dir = process.argv[2];
const schema = JSON.parse(fs.readFileSync(dir + "/schema.json", "utf8"));
const text = fs.readFileSync(dir + "/items.ndjson", "utf8");
const lines = text.split("\n").filter((l) => l.length);
const ajv = new Ajv2020({ allErrors: false, strict: false });
const validate = ajv.compile(schema);
function run(doValidate) {
  let invalid = 0;
  const t0 = process.hrtime.bigint();
  for (const l of lines) {
    const v = JSON.parse(l);
    if (doValidate && !validate(v)) invalid++;
  }
  return [Number(process.hrtime.bigint() - t0) / 1e9, invalid];
}
const mb = Buffer.byteLength(text) / 1e6;
for (const [label, v] of [["parse only", false], ["parse+validate", true]]) {
  let best = Infinity, invalid = 0;
  for (let i = 0; i < 5; i++) {
    const [t, n] = run(v);
    if (t < best) best = t;
    invalid = n;
  }
  console.log(`ajv ${label}: ${lines.length} items, ${mb.toFixed(1)} MB in ${(best * 1000).toFixed(1)} ms = ${(mb / best).toFixed(1)} MB/s, ${(lines.length / best / 1e3).toFixed(0)}k items/s` + (v ? `, ${invalid} invalid` : ""));
}

// ajv (draft 2020-12) on the same NDJSON, for comparison with whiskers
// (bench.c): parse only, and parse + validate, each line on its own.
//   node ajv_bench.js OUTDIR [RUNS]   (needs ajv on NODE_PATH; bench/validate
//                                      installs it)
// OUTDIR holds schema.json and items.ndjson (gen.py). Best and median of
// RUNS (default 5) after one warm-up pass, modes interleaved; one line per
// mode, in the same format as bench.c.
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020").default;
const dir = process.argv[2];
const runs = Number(process.argv[3] || 5);
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
const modes = [["decode only", false], ["decode+validate", true]];
const times = modes.map(() => []);
const invalid = [];
modes.forEach(([, v]) => run(v)); // warm-up: let the JIT compile the hot paths
for (let i = 0; i < runs; i++) // modes interleaved, as in bench.c
  modes.forEach(([, v], m) => {
    const [t, n] = run(v);
    times[m].push(t);
    invalid[m] = n;
  });
modes.forEach(([label, v], m) => {
  times[m].sort((a, b) => a - b);
  const best = times[m][0], median = times[m][Math.floor(runs / 2)];
  console.log(`${label}: items=${lines.length} MB=${mb.toFixed(2)} best_ms=${(best * 1000).toFixed(1)} ` +
    `median_ms=${(median * 1000).toFixed(1)} MB/s=${(mb / best).toFixed(1)}` + (v ? ` invalid=${invalid[m]}` : ""));
});

// ajv as a command, the peer of `whiskers schema check --ndjson` for
// bench/validate: compile SCHEMA, then for each line of NDJSON print
// "line N: valid" or "line N: invalid" (the first error's path and
// message under it), "line N: <error>" for a line that is not JSON.
// Exit 0 all valid, 1 some invalid, 2 some line not JSON.
//   node ajv_check.js SCHEMA NDJSON   (needs ajv on NODE_PATH)
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020").default;
const [schemaPath, dataPath] = process.argv.slice(2);
const ajv = new Ajv2020({ allErrors: false, strict: false });
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));
const lines = fs.readFileSync(dataPath, "utf8").split("\n");
const out = [];
let status = 0;
lines.forEach((line, i) => {
  if (!line.length) return;
  let value;
  try {
    value = JSON.parse(line);
  } catch (e) {
    out.push(`line ${i + 1}: ${e.message}`);
    status = 2;
    return;
  }
  if (validate(value)) {
    out.push(`line ${i + 1}: valid`);
    return;
  }
  const e = validate.errors[0];
  out.push(`line ${i + 1}: invalid`, `  ${e.instancePath || "(root)"}: ${e.message}`);
  status = status || 1;
});
fs.writeFileSync(1, out.join("\n") + "\n");
process.exitCode = status;

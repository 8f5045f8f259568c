// Generates (pattern, subject) pairs for the regex differential test and
// judges each with node's RegExp in unicode mode, the reference ECMA-262
// engine. Writes them for rxdiff (rxdiff.c), which runs whiskers' engine on
// the same pairs and reports every disagreement.
//
//   node gen.js PAIRS SEED [SUITE_DIR]
//
// Output, bytes with explicit lengths so any UTF-8 passes through:
//   P <0|1> <len>\n<pattern>\n   a pattern; 1 when node rejects its syntax
//   S <0|1> <len>\n<subject>\n   a subject of the last pattern; 1 = matches
// The suite's ecmascript-regex cases (SUITE_DIR/tests/draft2020-12/
// optional/...) come first, then generated patterns until PAIRS subjects.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const pairs = Number(process.argv[2] || 20000);
let seed = Number(process.argv[3] || 1) >>> 0;
const suite = process.argv[4];

// mulberry32: a small seeded PRNG, so a seed reproduces a run.
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rand() * n);
const pick = (a) => a[int(a.length)];

// Literals are drawn from a small alphabet so subjects hit them often; the
// extras exercise \d \w \s \b, '.' (newline), and multi-byte code points.
const LETTERS = ['a', 'b', 'c'];
const EXTRAS = ['1', '7', 'A', '_', ' ', '-', '!', '\n', '\u00e9', '\u2003', '\u{1F600}'];
const ESCAPES = ['\\d', '\\D', '\\w', '\\W', '\\s', '\\S'];

// A literal, escaped for where it stands ('-' only needs it in a class).
// The astral one is written as an escape: node 20 (V8) fails to match a
// literal astral character after a forward backreference (/\1X|(a)/u with
// X = U+1F600 on "X"), which \u{...} avoids.
function literal(inClass) {
  const c = rand() < 0.8 ? pick(LETTERS) : pick(['1', 'A', '_', ' ', '-', '\u00e9', '\u{1F600}']);
  if (c === '\u{1F600}') return '\\u{1F600}';
  return c === '-' && inClass ? '\\-' : c;
}

function classAtom() {
  const items = [];
  for (let n = 1 + int(3); n > 0; n--) {
    const r = rand();
    if (r < 0.2) items.push(pick(ESCAPES));
    else if (r < 0.45) items.push(pick([['a', 'b'], ['a', 'c'], ['0', '9'], ['A', 'Z']]).join('-'));
    else items.push(literal(true));
  }
  return '[' + (rand() < 0.25 ? '^' : '') + items.join('') + ']';
}

function quantifier() {
  const r = rand();
  let q;
  if (r < 0.3) q = '*';
  else if (r < 0.55) q = '+';
  else if (r < 0.75) q = '?';
  else {
    const lo = int(3);
    const form = int(3);
    q = form === 0 ? `{${lo}}` : form === 1 ? `{${lo},}` : `{${lo},${lo + int(3)}}`;
  }
  return rand() < 0.3 ? q + '?' : q;
}

// Two shapes of pattern: large ones mix every feature; small ones (few
// terms, many groups, alternations and backreferences) reach the corners
// of capture semantics, such as a backreference to a group that the last
// iteration of a loop did not enter.
const LARGE = { depth: 3, terms: 5, alt: 0.25, look: 0.08, group: 0.14, backref: 0.06 };
const SMALL = { depth: 2, terms: 3, alt: 0.4, look: 0.08, group: 0.3, backref: 0.15 };

// A pattern as a tree of strings and backreference slots; the slots are
// numbered once the whole pattern's group count is known (\N must name an
// existing group in unicode mode).
function gen(depth, st) {
  const alts = [];
  for (let n = rand() < st.shape.alt ? 2 + int(2) : 1; n > 0; n--) alts.push(seq(depth, st));
  return alts.flatMap((a, i) => (i ? ['|', ...a] : a));
}

function seq(depth, st) {
  const out = [];
  for (let n = int(st.shape.terms); n >= 0; n--) out.push(...term(depth, st));
  return out;
}

function group(depth, st) {
  const kind = int(3);
  if (kind === 2) return ['(?:', ...gen(depth - 1, st), ')'];
  st.groups++;
  return [kind === 0 ? '(' : `(?<g${st.groups}>`, ...gen(depth - 1, st), ')'];
}

function term(depth, st) {
  const { look, group: grp, backref } = st.shape;
  let r = rand();
  if (r < 0.06) return [pick(['^', '$', '\\b', '\\B'])];
  if ((r -= 0.06) < look && depth > 0)
    return [pick(['(?=', '(?!', '(?<=', '(?<!']), ...gen(depth - 1, st), ')'];
  r -= look;
  let atom;
  if (r < grp && depth > 0) atom = group(depth, st);
  else if ((r -= grp) < backref) atom = [{ backref: true }];
  else if ((r -= backref) < 0.1) atom = [classAtom()];
  else if ((r -= 0.1) < 0.07) atom = [pick(ESCAPES)];
  else if ((r -= 0.07) < 0.05) atom = ['.'];
  else atom = [literal(false)];
  return rand() < 0.35 ? [...atom, quantifier()] : atom;
}

// Half the patterns are anchored at both ends: a whole-subject match tells
// more about how the engine split the subject than a search does.
function generatePattern() {
  const st = { groups: 0, shape: rand() < 0.5 ? SMALL : LARGE };
  const parts = gen(st.shape.depth, st);
  let p = '';
  for (const x of parts) {
    // A digit right after \N would extend the number: (?:) keeps them apart.
    if (typeof x === 'string') p += /\\[0-9]+$/.test(p) && /^[0-9]/.test(x) ? '(?:)' + x : x;
    else p += st.groups ? '\\' + (1 + int(st.groups)) : 'c';
  }
  return rand() < 0.5 ? `^(?:${p})$` : p;
}

// Subjects mostly from the pattern's own characters (so literals and
// backreferences meet text they can match), the rest from the extras.
function subjects(pattern, n) {
  const own = [...new Set([...pattern].filter((c) => !'\\^$.|?*+()[]{}'.includes(c)))];
  own.push(...LETTERS);
  const out = [''];
  while (out.length < n) {
    let s = '';
    for (let len = int(9); len > 0; len--) s += pick(rand() < 0.8 ? own : EXTRAS);
    out.push(s);
  }
  return out;
}

const chunks = [];
let size = 0;
function write(s) {
  chunks.push(s);
  size += s.length;
  if (size > 1 << 16) flush();
}
function flush() {
  fs.writeSync(1, chunks.join(''));
  chunks.length = 0;
  size = 0;
}
function record(tag, flag, text) {
  write(`${tag} ${flag} ${Buffer.byteLength(text)}\n${text}\n`);
}

// Does re (sticky) match each subject, starting at some code point
// boundary? This is the search ECMA-262 specifies for the u flag; node 20's
// own search (test, exec) also tries positions inside a surrogate pair,
// where an empty match can succeed (/\B/u.exec("a\u{1F600}_").index is 2).
// V8 has no step budget, so a pattern exponential for it would stall the
// run: vm's timeout interrupts it, and the pattern is left out and counted.
const judge = new vm.Script(`verdicts = subs.map((s) => {
  for (let i = 0; ; i += s.codePointAt(i) > 0xffff ? 2 : 1) {
    re.lastIndex = i;
    if (re.test(s)) return 1;
    if (i >= s.length) return 0;
  }
})`);
const JUDGE_MS = 2000;
const ctx = vm.createContext({});
let leftOut = 0;

let written = 0;
function emit(pattern, subs) {
  Object.assign(ctx, { re: null, subs, verdicts: null });
  try {
    ctx.re = new RegExp(pattern, 'uy');
  } catch (e) {
    // node's syntax is the reference only for what it accepts: whiskers is
    // lenient where Annex B is (rxdiff counts these apart).
  }
  if (ctx.re) {
    try {
      judge.runInContext(ctx, { timeout: JUDGE_MS });
    } catch (e) {
      leftOut++;
      return;
    }
  }
  record('P', ctx.re ? 0 : 1, pattern);
  subs.forEach((s, i) => {
    record('S', ctx.re ? ctx.verdicts[i] : 0, s);
    written++;
  });
}

// The official suite's regex cases: their patterns with their strings, then
// with generated subjects.
function suiteCases(dir) {
  const out = new Map();
  const add = (p, s) => {
    if (!out.has(p)) out.set(p, []);
    if (typeof s === 'string') out.get(p).push(s);
  };
  for (const f of ['ecmascript-regex.json', 'non-bmp-regex.json', 'format/regex.json']) {
    const file = path.join(dir, 'tests/draft2020-12/optional', f);
    for (const group of JSON.parse(fs.readFileSync(file, 'utf8'))) {
      const sch = group.schema;
      for (const t of group.tests) {
        if (typeof sch.pattern === 'string') add(sch.pattern, t.data);
        for (const p of Object.keys(sch.patternProperties || {}))
          for (const k of Object.keys(t.data || {})) add(p, k);
        if (sch.format === 'regex' && typeof t.data === 'string') add(t.data, '');
      }
    }
  }
  return out;
}

if (suite) {
  for (const [p, strs] of suiteCases(suite)) emit(p, [...strs, ...subjects(p, 20)]);
}
while (written < pairs) {
  const p = generatePattern();
  emit(p, subjects(p, 10));
}
flush();
if (leftOut) process.stderr.write(`gen.js: ${leftOut} patterns left out: node took over ${JUDGE_MS} ms\n`);

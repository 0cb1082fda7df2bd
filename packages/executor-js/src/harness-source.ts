/**
 * Source of the harness that runs first in every fresh context, before any candidate code. It is
 * plain JavaScript kept in a string (not a function's `toString()`), so that no bundler or TS
 * transform can inject helpers that do not exist inside the isolate.
 *
 * Its completion value is the control function `ctl(op, arg)`; the executor keeps it as an
 * isolated-vm Reference and never stores it on the global object, so the candidate cannot reach
 * it. Everything `ctl` uses after the candidate has run was captured here, while the context was
 * still pristine (`Reflect.apply`, `JSON.stringify`, …), and its state lives in closure variables,
 * so a candidate that patches `JSON`, `console`, `Object.prototype` or `Array.prototype` cannot
 * forge a flag. The verdict itself is never decided here: `ctl` only reports facts (output, the
 * return value as JSON, exit calls, failed `console.assert`s, built-ins that were replaced) and the
 * trusted Node side compares.
 */
export const HARNESS_SOURCE = String.raw`(function () {
'use strict';
const G = globalThis;
const apply = Reflect.apply;
const ownKeys = Reflect.ownKeys;
const getDesc = Object.getOwnPropertyDescriptor;
const defineProperty = Object.defineProperty;
const getProto = Object.getPrototypeOf;
const freeze = Object.freeze;
const isArray = Array.isArray;
const objKeys = Object.keys;
const geval = G.eval;
const stringify = JSON.stringify;
const parse = JSON.parse;
const StringCtor = String;
const NumberCtor = Number;
const ErrorCtor = Error;
const TypeErrorCtor = TypeError;
const PromiseCtor = Promise;
const promiseThen = Promise.prototype.then;
const promiseResolve = Promise.resolve;
const objToString = Object.prototype.toString;
const hasOwn = Object.hasOwn;
const same = Object.is;
const isPrototypeOf = Object.prototype.isPrototypeOf;
const fnToString = Function.prototype.toString;
const charCodeAt = String.prototype.charCodeAt;
const strSlice = String.prototype.slice;
const strSplit = String.prototype.split;
const strIndexOf = String.prototype.indexOf;
const strReplace = String.prototype.replace;
const arrSlice = Array.prototype.slice;
const arrJoin = Array.prototype.join;
const arrMap = Array.prototype.map;
const arrFrom = Array.from;
const fromCharCode = String.fromCharCode;
const mapEntries = Map.prototype.entries;
const setValues = Set.prototype.values;
const iterNext = (it) => apply(it.next, it, []);
const symIterator = Symbol.iterator;
const symAsyncIterator = Symbol.asyncIterator;
const symToStringTag = Symbol.toStringTag;
const RegExpExec = RegExp.prototype.exec;
const TAG = '\u0000stepcoder';
const mathFloor = Math.floor;
const isSafeInteger = Number.isSafeInteger;

const cfg = { __proto__: null, stdin: '', maxOutputBytes: 65536, env: {}, files: {}, kind: 'stdio' };

let stdout = '';
let stderr = '';
let stdoutBytes = 0;
let stderrBytes = 0;
let stdoutCut = false;
let stderrCut = false;
let exitCalled = false;
let exitCode = 0;
let exitCodeProp = undefined;
let consoleAssertFailures = 0;
let firstConsoleAssert = '';
let assertFailures = 0;
let asyncState = 'none';
let asyncValue;
let asyncError = '';
let callError = '';
let callErrorName = '';
let stdioError = '';
let stdioErrorName = '';

function utf8Length(s) {
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = apply(charCodeAt, s, [i]);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      const d = apply(charCodeAt, s, [i + 1]);
      if (d >= 0xdc00 && d <= 0xdfff) { n += 4; i++; } else n += 3;
    } else n += 3;
  }
  return n;
}

// Cut a string so that its UTF-8 size is at most 'budget' bytes.
function cutToBytes(s, budget) {
  let n = 0;
  let i = 0;
  while (i < s.length) {
    const c = apply(charCodeAt, s, [i]);
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : 3;
    if (n + size > budget) break;
    n += size;
    i += size === 4 ? 2 : 1;
  }
  return apply(strSlice, s, [0, i]);
}

function writeOut(which, text) {
  if (exitCalled) return;
  const s = StringCtor(text);
  const size = utf8Length(s);
  if (which === 1) {
    const room = cfg.maxOutputBytes - stdoutBytes;
    if (size <= room) { stdout += s; stdoutBytes += size; }
    else { if (room > 0) { stdout += cutToBytes(s, room); } stdoutBytes = cfg.maxOutputBytes; stdoutCut = true; }
  } else {
    const room = cfg.maxOutputBytes - stderrBytes;
    if (size <= room) { stderr += s; stderrBytes += size; }
    else { if (room > 0) { stderr += cutToBytes(s, room); } stderrBytes = cfg.maxOutputBytes; stderrCut = true; }
  }
}

// Bytes written with process.stdout.write(Uint8Array): decoded as UTF-8, bad sequences become U+FFFD.
function decodeUtf8(bytes) {
  let out = '';
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    let cp = 0xfffd;
    let len = 1;
    if (b < 0x80) { cp = b; }
    else if (b >= 0xc2 && b <= 0xdf && i + 1 < n && (bytes[i + 1] & 0xc0) === 0x80) { cp = ((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f); len = 2; }
    else if (b >= 0xe0 && b <= 0xef && i + 2 < n && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80) {
      const c = ((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
      if (c >= 0x800 && (c < 0xd800 || c > 0xdfff)) { cp = c; len = 3; }
    } else if (b >= 0xf0 && b <= 0xf4 && i + 3 < n && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80 && (bytes[i + 3] & 0xc0) === 0x80) {
      const c = ((b & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f);
      if (c >= 0x10000 && c <= 0x10ffff) { cp = c; len = 4; }
    }
    if (cp > 0xffff) { const v = cp - 0x10000; out += fromCharCode(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff)); }
    else out += fromCharCode(cp);
    i += len;
  }
  return out;
}

function chunkToString(chunk) {
  if (typeof chunk === 'string') return chunk;
  if (chunk !== null && typeof chunk === 'object' && apply(objToString, chunk, []) === '[object Uint8Array]') return decodeUtf8(chunk);
  throw new TypeErrorCtor('The "chunk" argument must be of type string or an instance of Uint8Array');
}

/* ---------- console.log formatting: Node's util.inspect for the common cases ---------- */

function quote(s) {
  return "'" + apply(strReplace, s, [/[\\']/g, (m) => '\\' + m]) + "'";
}

function inspect(v, depth, seen) {
  switch (typeof v) {
    case 'string': return depth === 0 ? v : quote(v);
    case 'number': return v === 0 && 1 / v < 0 ? '-0' : StringCtor(v);
    case 'bigint': return StringCtor(v) + 'n';
    case 'boolean': return v ? 'true' : 'false';
    case 'undefined': return 'undefined';
    case 'symbol': return StringCtor(v);
    case 'function': {
      const name = v.name;
      const src = apply(fnToString, v, []);
      const isClass = apply(strIndexOf, src, ['class']) === 0;
      return (isClass ? '[class ' : '[Function: ') + (name || '(anonymous)') + ']';
    }
  }
  if (v === null) return 'null';
  for (let i = 0; i < seen.length; i++) if (seen[i] === v) return '[Circular *1]';
  const tag = apply(objToString, v, []);
  if (depth > 2) return isArray(v) ? '[Array]' : '[Object]';
  const inner = [];
  const next = [];
  for (let i = 0; i < seen.length; i++) next[i] = seen[i];
  next[seen.length] = v;
  if (isArray(v)) {
    if (v.length === 0) return '[]';
    const n = v.length > 100 ? 100 : v.length;
    for (let i = 0; i < n; i++) inner[i] = inspect(v[i], depth + 1, next);
    if (v.length > 100) inner[n] = '... ' + (v.length - 100) + ' more items';
    return '[ ' + apply(arrJoin, inner, [', ']) + ' ]';
  }
  if (tag === '[object Map]') {
    const it = apply(mapEntries, v, []);
    let r = iterNext(it);
    let i = 0;
    while (!r.done) { inner[i++] = inspect(r.value[0], depth + 1, next) + ' => ' + inspect(r.value[1], depth + 1, next); r = iterNext(it); }
    return 'Map(' + i + ') ' + (i ? '{ ' + apply(arrJoin, inner, [', ']) + ' }' : '{}');
  }
  if (tag === '[object Set]') {
    const it = apply(setValues, v, []);
    let r = iterNext(it);
    let i = 0;
    while (!r.done) { inner[i++] = inspect(r.value, depth + 1, next); r = iterNext(it); }
    return 'Set(' + i + ') ' + (i ? '{ ' + apply(arrJoin, inner, [', ']) + ' }' : '{}');
  }
  if (tag === '[object Error]') return v.stack ? StringCtor(v.stack) : StringCtor(v);
  if (tag === '[object Date]') return v.toISOString();
  const keys = objKeys(v);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const key = apply(RegExpExec, /^[A-Za-z_$][\w$]*$/, [k]) ? k : quote(k);
    inner[i] = key + ': ' + inspect(v[k], depth + 1, next);
  }
  const proto = getProto(v);
  let prefix = '';
  if (proto === null) prefix = '[Object: null prototype] ';
  else if (proto.constructor && proto.constructor !== Object && typeof proto.constructor.name === 'string' && proto.constructor.name) prefix = proto.constructor.name + ' ';
  return prefix + (keys.length ? '{ ' + apply(arrJoin, inner, [', ']) + ' }' : '{}');
}

function format(args) {
  let first = args[0];
  let start = 0;
  let out = '';
  if (typeof first === 'string' && apply(strIndexOf, first, ['%']) !== -1 && args.length > 1) {
    let ai = 1;
    let i = 0;
    while (i < first.length) {
      const ch = first[i];
      if (ch === '%' && i + 1 < first.length) {
        const t = first[i + 1];
        if (t === '%') { out += '%'; i += 2; continue; }
        if (ai < args.length && (t === 's' || t === 'd' || t === 'i' || t === 'f' || t === 'j' || t === 'o' || t === 'O' || t === 'c')) {
          const a = args[ai++];
          if (t === 's') out += typeof a === 'string' ? a : inspect(a, 1, []);
          else if (t === 'd') out += typeof a === 'bigint' ? a + 'n' : StringCtor(NumberCtor(a));
          else if (t === 'i') out += StringCtor(mathFloor(NumberCtor(a)));
          else if (t === 'f') out += StringCtor(NumberCtor(a));
          else if (t === 'j') out += stringify(a);
          else if (t === 'c') out += '';
          else out += inspect(a, 1, []);
          i += 2;
          continue;
        }
      }
      out += ch;
      i++;
    }
    start = ai;
    for (let k = start; k < args.length; k++) out += ' ' + inspect(args[k], 0, []);
    return out;
  }
  for (let k = 0; k < args.length; k++) out += (k ? ' ' : '') + inspect(args[k], 0, []);
  return out;
}

/* ---------- assert shim (node:assert subset), built only from captured intrinsics ---------- */

function isDeepEqual(a, b, strict, depth) {
  if (depth > 1000) return false;
  if (strict ? (a === b ? (a !== 0 || 1 / a === 1 / b) : (a !== a && b !== b)) : (a == b || (a !== a && b !== b))) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (strict && getProto(a) !== getProto(b)) return false;
  if (isArray(a) !== isArray(b)) return false;
  const ta = apply(objToString, a, []);
  if (ta !== apply(objToString, b, [])) return false;
  if (ta === '[object Date]') return a.getTime() === b.getTime();
  if (ta === '[object Map]' || ta === '[object Set]') {
    const ea = arrFrom(a);
    const eb = arrFrom(b);
    if (ea.length !== eb.length) return false;
    for (let i = 0; i < ea.length; i++) {
      let found = false;
      for (let j = 0; j < eb.length && !found; j++) found = isDeepEqual(ea[i], eb[j], strict, depth + 1);
      if (!found) return false;
    }
    return true;
  }
  const ka = objKeys(a);
  const kb = objKeys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i];
    if (!hasOwn(b, k)) return false;
    if (!isDeepEqual(a[k], b[k], strict, depth + 1)) return false;
  }
  return true;
}

function AssertionError(options) {
  const e = new ErrorCtor(options.message);
  defineProperty(e, 'name', { value: 'AssertionError', writable: true, configurable: true });
  defineProperty(e, 'code', { value: 'ERR_ASSERTION', writable: true, configurable: true });
  defineProperty(e, 'actual', { value: options.actual, writable: true, configurable: true });
  defineProperty(e, 'expected', { value: options.expected, writable: true, configurable: true });
  return e;
}

function fail(message, fallback, actual, expected) {
  assertFailures++;
  if (message !== null && typeof message === 'object' && apply(objToString, message, []) === '[object Error]') throw message;
  throw AssertionError({ message: message === undefined ? fallback : StringCtor(message), actual, expected });
}

function show(v) {
  try { return inspect(v, 1, []); } catch (e) { return '<uninspectable>'; }
}

function makeAssert(strictMode) {
  const ok = function ok(value, message) {
    if (!value) fail(message, 'The expression evaluated to a falsy value:\n\n  assert(' + show(value) + ')\n', value, true);
  };
  const a = function assert(value, message) { if (!value) fail(message, 'The expression evaluated to a falsy value:\n\n  assert(' + show(value) + ')\n', value, true); };
  a.ok = ok;
  a.strictEqual = function strictEqual(actual, expected, message) {
    if (!(actual === expected || (actual !== actual && expected !== expected))) fail(message, 'Expected values to be strictly equal:\n\n' + show(actual) + ' !== ' + show(expected) + '\n', actual, expected);
  };
  a.notStrictEqual = function notStrictEqual(actual, expected, message) {
    if (actual === expected || (actual !== actual && expected !== expected)) fail(message, 'Expected "actual" to be strictly unequal to: ' + show(expected), actual, expected);
  };
  a.deepStrictEqual = function deepStrictEqual(actual, expected, message) {
    if (!isDeepEqual(actual, expected, true, 0)) fail(message, 'Expected values to be strictly deep-equal:\n' + show(actual) + '\n\nshould equal\n\n' + show(expected), actual, expected);
  };
  a.notDeepStrictEqual = function notDeepStrictEqual(actual, expected, message) {
    if (isDeepEqual(actual, expected, true, 0)) fail(message, 'Expected "actual" not to be strictly deep-equal to: ' + show(expected), actual, expected);
  };
  a.equal = strictMode ? a.strictEqual : function equal(actual, expected, message) {
    if (!(actual == expected || (actual !== actual && expected !== expected))) fail(message, show(actual) + ' == ' + show(expected), actual, expected);
  };
  a.notEqual = strictMode ? a.notStrictEqual : function notEqual(actual, expected, message) {
    if (actual == expected || (actual !== actual && expected !== expected)) fail(message, show(actual) + ' != ' + show(expected), actual, expected);
  };
  a.deepEqual = strictMode ? a.deepStrictEqual : function deepEqual(actual, expected, message) {
    if (!isDeepEqual(actual, expected, false, 0)) fail(message, 'Expected values to be loosely deep-equal:\n\n' + show(actual) + '\n\nshould loosely deep-equal\n\n' + show(expected), actual, expected);
  };
  a.notDeepEqual = strictMode ? a.notDeepStrictEqual : function notDeepEqual(actual, expected, message) {
    if (isDeepEqual(actual, expected, false, 0)) fail(message, 'Expected "actual" not to be loosely deep-equal to: ' + show(expected), actual, expected);
  };
  a.throws = function throws(fn, expected, message) {
    if (typeof fn !== 'function') throw new TypeErrorCtor('The "fn" argument must be of type function');
    let threw = false;
    let err;
    try { fn(); } catch (e) { threw = true; err = e; }
    if (typeof expected === 'string') { message = expected; expected = undefined; }
    if (!threw) fail(message, 'Missing expected exception.', undefined, expected);
    if (typeof expected === 'function') {
      if (expected.prototype !== undefined && err instanceof expected) return;
      if (expected === ErrorCtor || apply(isPrototypeOf, ErrorCtor, [expected])) fail(message, 'The error is expected to be an instance of "' + expected.name + '"', err, expected);
      if (apply(expected, undefined, [err]) !== true) fail(message, 'The validation function is expected to return "true"', err, expected);
      return;
    }
    if (expected !== null && typeof expected === 'object') {
      if (apply(objToString, expected, []) === '[object RegExp]') {
        if (!apply(RegExpExec, expected, [StringCtor(err)])) fail(message, 'The input did not match the regular expression ' + StringCtor(expected), err, expected);
        return;
      }
      const ks = objKeys(expected);
      for (let i = 0; i < ks.length; i++) {
        const want = expected[ks[i]];
        const got = err === null || err === undefined ? undefined : err[ks[i]];
        const same = want !== null && typeof want === 'object' && apply(objToString, want, []) === '[object RegExp]' ? !!apply(RegExpExec, want, [StringCtor(got)]) : isDeepEqual(got, want, true, 0);
        if (!same) fail(message, 'Expected values to be strictly deep-equal (property "' + ks[i] + '")', err, expected);
      }
    }
  };
  a.doesNotThrow = function doesNotThrow(fn, message) {
    try { fn(); } catch (e) { fail(typeof message === 'string' ? message : undefined, 'Got unwanted exception.\nActual message: "' + (e && e.message) + '"', e, undefined); }
  };
  a.fail = function assertFail(message) { fail(message, 'Failed', undefined, undefined); };
  a.match = function match(str, re, message) { if (!apply(RegExpExec, re, [str])) fail(message, 'The input did not match the regular expression ' + StringCtor(re), str, re); };
  a.AssertionError = function AssertionErrorCtor(o) { return AssertionError(o || {}); };
  a.strict = a;
  return freeze(a);
}
const assertShim = makeAssert(false);
const strictAssertShim = makeAssert(true);

/* ---------- console, process, stdin, readline, fs, require ---------- */

function consoleAssert(value) {
  if (value) return;
  consoleAssertFailures++;
  const rest = apply(arrSlice, arguments, [1]);
  const text = 'Assertion failed' + (rest.length ? ': ' + format(rest) : '');
  if (!firstConsoleAssert) firstConsoleAssert = text;
  writeOut(2, text + '\n');
}

const counts = { __proto__: null };
const fakeConsole = freeze({
  log: function log() { writeOut(1, format(arguments) + '\n'); },
  info: function info() { writeOut(1, format(arguments) + '\n'); },
  debug: function debug() { writeOut(1, format(arguments) + '\n'); },
  dir: function dir(v) { writeOut(1, inspect(v, 1, []) + '\n'); },
  table: function table() { writeOut(1, format(arguments) + '\n'); },
  error: function error() { writeOut(2, format(arguments) + '\n'); },
  warn: function warn() { writeOut(2, format(arguments) + '\n'); },
  trace: function trace() { writeOut(2, 'Trace: ' + format(arguments) + '\n'); },
  assert: consoleAssert,
  count: function count(label) { const l = label === undefined ? 'default' : StringCtor(label); counts[l] = (counts[l] || 0) + 1; writeOut(1, l + ': ' + counts[l] + '\n'); },
  countReset: function countReset(label) { counts[label === undefined ? 'default' : StringCtor(label)] = 0; },
  group: function group() { if (arguments.length) writeOut(1, format(arguments) + '\n'); },
  groupEnd: function groupEnd() {},
  time: function time() {},
  timeEnd: function timeEnd() {},
  timeLog: function timeLog() {},
});

const EXIT = 'process.exit() was called';
function exit(code) {
  if (!exitCalled) {
    exitCode = code === undefined ? (exitCodeProp === undefined ? 0 : NumberCtor(exitCodeProp) | 0) : NumberCtor(code) | 0;
    exitCalled = true;
  }
  // Not catchable in any way that matters: the flag above is already set, and the Node side
  // decides from the flag, not from whether this error escapes.
  throw new ErrorCtor(EXIT + ' (code ' + exitCode + ')');
}

let stdinLines = null;
let stdinCursor = 0;
let stdinConsumed = false;
function lines() {
  if (stdinLines === null) {
    stdinLines = apply(strSplit, cfg.stdin, [/\r?\n/]);
    if (stdinLines.length && stdinLines[stdinLines.length - 1] === '') stdinLines.length--;
  }
  return stdinLines;
}

function emitterMixin(target, listeners) {
  const on = function on(event, fn) {
    if (typeof fn !== 'function') throw new TypeErrorCtor('The "listener" argument must be of type function');
    const key = StringCtor(event);
    if (!listeners[key]) listeners[key] = [];
    const l = listeners[key];
    l[l.length] = fn;
    return target;
  };
  target.on = on;
  target.addListener = on;
  target.once = on;
  target.off = function off(event, fn) {
    const l = listeners[StringCtor(event)];
    if (l) for (let i = 0; i < l.length; i++) if (l[i] === fn) { l[i] = null; }
    return target;
  };
  target.removeListener = target.off;
  target.removeAllListeners = function removeAllListeners(event) { if (event === undefined) { for (const k in listeners) listeners[k] = []; } else listeners[StringCtor(event)] = []; return target; };
  target.emit = function emit() { return false; };
  return target;
}

function fire(listeners, event, args) {
  const l = listeners[event];
  if (!l) return;
  const copy = apply(arrSlice, l, [0]);
  for (let i = 0; i < copy.length; i++) {
    if (exitCalled) return;
    if (copy[i]) apply(copy[i], undefined, args);
  }
}

const stdinListeners = { __proto__: null };
let stdinEncodingSet = false;
const stdin = emitterMixin({
  fd: 0,
  isTTY: false,
  readable: true,
  setEncoding: function setEncoding() { stdinEncodingSet = true; return stdin; },
  resume: function resume() { return stdin; },
  pause: function pause() { return stdin; },
  unref: function unref() { return stdin; },
  ref: function ref() { return stdin; },
  read: function read() {
    if (stdinConsumed) return null;
    stdinConsumed = true;
    return cfg.stdin;
  },
  [symAsyncIterator]: function () {
    let done = false;
    return {
      next: function () {
        if (done) return PromiseCtor.resolve({ value: undefined, done: true });
        done = true;
        return PromiseCtor.resolve({ value: cfg.stdin, done: false });
      },
      [symAsyncIterator]: function () { return this; },
    };
  },
}, stdinListeners);

const interfaces = [];
function createInterface() {
  const listeners = { __proto__: null };
  let closed = false;
  let questions = [];
  const rl = emitterMixin({
    close: function close() {
      if (closed) return;
      closed = true;
      fire(listeners, 'close', []);
    },
    question: function question(query, cb) {
      if (typeof query === 'string') writeOut(1, query);
      questions[questions.length] = cb;
    },
    setPrompt: function setPrompt() {},
    prompt: function prompt() {},
    pause: function pause() { return rl; },
    resume: function resume() { return rl; },
    write: function write() {},
    [symAsyncIterator]: function () {
      rl.iterated = true;
      return {
        next: function () {
          const ls = lines();
          if (stdinCursor < ls.length) return PromiseCtor.resolve({ value: ls[stdinCursor++], done: false });
          return PromiseCtor.resolve({ value: undefined, done: true });
        },
        return: function () { return PromiseCtor.resolve({ value: undefined, done: true }); },
        [symAsyncIterator]: function () { return this; },
      };
    },
  }, listeners);
  interfaces[interfaces.length] = { rl, listeners, isClosed: () => closed, questions: () => { const q = questions; questions = []; return q; } };
  return rl;
}
const readlineModule = freeze({ createInterface, Interface: function Interface() { return createInterface(); }, emitKeypressEvents: function () {}, clearLine: function () {}, cursorTo: function () {} });

function denied(what) {
  const e = new ErrorCtor(what + ' is not available in the sandbox');
  e.code = 'EACCES';
  return e;
}

const fsModule = freeze({
  readFileSync: function readFileSync(path, options) {
    if (path === 0 || path === '/dev/stdin' || path === '/dev/fd/0') return cfg.stdin;
    if (typeof path === 'string' && hasOwn(cfg.files, path)) return cfg.files[path];
    throw denied('file system access (' + StringCtor(path) + ')');
  },
  existsSync: function existsSync(path) { return typeof path === 'string' && hasOwn(cfg.files, path); },
  writeFileSync: function writeFileSync() { throw denied('writing files'); },
  writeSync: function writeSync(fd, data) {
    if (fd === 1) { writeOut(1, chunkToString(data)); return; }
    if (fd === 2) { writeOut(2, chunkToString(data)); return; }
    throw denied('writing files');
  },
});

const moduleObj = { exports: {} };

function requireShim(name) {
  let id = StringCtor(name);
  if (apply(strIndexOf, id, ['node:']) === 0) id = apply(strSlice, id, [5]);
  if (id === 'assert') return assertShim;
  if (id === 'assert/strict') return strictAssertShim;
  if (id === 'readline') return readlineModule;
  if (id === 'fs') return fsModule;
  if (id === 'util') return utilModule;
  const e = new ErrorCtor("Cannot find module '" + StringCtor(name) + "': modules are not available in the sandbox (only assert, readline, util and a stdin-only fs)");
  e.code = 'MODULE_NOT_FOUND';
  throw e;
}
const utilModule = freeze({ inspect: function (v) { return inspect(v, 1, []); }, format: function () { return format(arguments); } });

/* ---------- virtual timers: fired from the Node side, one per hop, microtasks drained between ---------- */

let timers = [];
let timerSeq = 0;
let virtualNow = 0;
function addTimer(fn, ms, args, repeat) {
  if (typeof fn !== 'function') throw new TypeErrorCtor('The "callback" argument must be of type function');
  const id = ++timerSeq;
  const delay = NumberCtor(ms) > 0 ? NumberCtor(ms) : 0;
  timers[timers.length] = { id, due: virtualNow + delay, fn, args, repeat: repeat ? (delay || 1) : 0 };
  return id;
}
function clearTimer(id) {
  for (let i = 0; i < timers.length; i++) if (timers[i].id === id) { timers[i] = timers[timers.length - 1]; timers.length--; return; }
}
function fireTimer() {
  if (exitCalled || timers.length === 0) return 0;
  let best = 0;
  for (let i = 1; i < timers.length; i++) {
    const t = timers[i];
    const b = timers[best];
    if (t.due < b.due || (t.due === b.due && t.id < b.id)) best = i;
  }
  const t = timers[best];
  virtualNow = t.due;
  if (t.repeat) t.due = virtualNow + t.repeat;
  else { timers[best] = timers[timers.length - 1]; timers.length--; }
  apply(t.fn, undefined, t.args);
  return timers.length;
}

function microtask(fn) { apply(promiseThen, apply(promiseResolve, PromiseCtor, []), [function () { fn(); }]); }

const fakeProcess = freeze({
  stdin,
  stdout: freeze({ write: function write(chunk) { writeOut(1, chunkToString(chunk)); return true; }, isTTY: false, columns: 80, fd: 1, on: function () {}, once: function () {} }),
  stderr: freeze({ write: function write(chunk) { writeOut(2, chunkToString(chunk)); return true; }, isTTY: false, columns: 80, fd: 2, on: function () {}, once: function () {} }),
  argv: freeze(['node', '/sandbox/main.js']),
  execArgv: freeze([]),
  get env() { return cfg.env; },
  exit,
  get exitCode() { return exitCodeProp; },
  set exitCode(v) { exitCodeProp = v; },
  platform: 'linux',
  version: 'v20.0.0',
  versions: freeze({ node: '20.0.0' }),
  pid: 1,
  cwd: function cwd() { return '/sandbox'; },
  nextTick: function nextTick(fn) { const args = apply(arrSlice, arguments, [1]); microtask(function () { apply(fn, undefined, args); }); },
  hrtime: freeze(Object.assign(function hrtime() { const t = Date.now(); return [mathFloor(t / 1000), (t % 1000) * 1e6]; }, { bigint: function bigint() { return BigInt(Date.now()) * 1000000n; } })),
  memoryUsage: function memoryUsage() { return { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }; },
  on: function on() { return fakeProcess; },
  once: function once() { return fakeProcess; },
  openStdin: function openStdin() { return stdin; },
});

function defineGlobal(name, value, locked) {
  defineProperty(G, name, { value, writable: !locked, enumerable: false, configurable: !locked });
}

/* ---------- integrity of built-ins, checked after assertion tests ---------- */

const GUARDED_GLOBALS = ['Object', 'Array', 'Function', 'String', 'Number', 'Boolean', 'Symbol', 'BigInt', 'Error', 'TypeError', 'RangeError',
  'JSON', 'Math', 'Reflect', 'Promise', 'Map', 'Set', 'RegExp', 'Date', 'isNaN', 'isFinite', 'parseInt', 'parseFloat', 'eval',
  'console', 'process', 'require', 'assert'];
let guardedValues = null;
let guardedProps = null;
function snapshot() {
  const objs = [
    ['Object', Object], ['Object.prototype', Object.prototype], ['Array', Array], ['Array.prototype', Array.prototype],
    ['Function.prototype', Function.prototype], ['String', String], ['String.prototype', String.prototype],
    ['Number', Number], ['Number.prototype', Number.prototype], ['Boolean.prototype', Boolean.prototype],
    ['Symbol.prototype', Symbol.prototype], ['Error.prototype', Error.prototype], ['JSON', JSON], ['Math', Math],
    ['Reflect', Reflect], ['Promise', Promise], ['Promise.prototype', Promise.prototype], ['Map.prototype', Map.prototype],
    ['Set.prototype', Set.prototype], ['RegExp.prototype', RegExp.prototype], ['Date.prototype', Date.prototype],
  ];
  guardedProps = [];
  for (let i = 0; i < objs.length; i++) {
    const o = objs[i][1];
    const ks = ownKeys(o);
    const entries = [];
    for (let j = 0; j < ks.length; j++) {
      const d = getDesc(o, ks[j]);
      entries[j] = [ks[j], hasOwn(d, 'value') ? d.value : undefined, d.get, d.set];
    }
    guardedProps[i] = [objs[i][0], o, getProto(o), entries, ks.length];
  }
  guardedValues = geval('[' + apply(arrJoin, GUARDED_GLOBALS, [',']) + ']');
}
const ObjectProto = Object.prototype;
const HOOK_KEYS = ['toJSON', 'valueOf', 'toString', 'then', 'constructor', 'length', Symbol.toPrimitive, Symbol.iterator, Symbol.hasInstance, Symbol.toStringTag, Symbol.species];
function isHookKey(key) {
  for (let i = 0; i < HOOK_KEYS.length; i++) if (HOOK_KEYS[i] === key) return true;
  return false;
}
function integrity() {
  let current;
  try { current = geval('[' + apply(arrJoin, GUARDED_GLOBALS, [',']) + ']'); } catch (e) { return 'a global built-in was shadowed or removed'; }
  for (let i = 0; i < GUARDED_GLOBALS.length; i++) if (current[i] !== guardedValues[i]) return GUARDED_GLOBALS[i];
  for (let i = 0; i < guardedProps.length; i++) {
    const g = guardedProps[i];
    if (getProto(g[1]) !== g[2]) return g[0] + ' [[Prototype]]';
    const entries = g[3];
    const now = ownKeys(g[1]);
    if (now.length !== g[4]) {
      // New properties: anything on Object.prototype, and hooks that change how values compare,
      // print or convert (toJSON, valueOf, Symbol.toPrimitive…) anywhere. New helper methods on
      // other prototypes (polyfills) are allowed.
      for (let k = 0; k < now.length; k++) {
        const key = now[k];
        let known = false;
        for (let j = 0; j < entries.length && !known; j++) known = entries[j][0] === key;
        if (!known && (g[1] === ObjectProto || isHookKey(key))) return g[0] + '.' + StringCtor(key);
      }
    }
    for (let j = 0; j < entries.length; j++) {
      const e = entries[j];
      const d = getDesc(g[1], e[0]);
      if (d === undefined || !same(hasOwn(d, 'value') ? d.value : undefined, e[1]) || (hasOwn(d, 'get') ? d.get : undefined) !== e[2] || (hasOwn(d, 'set') ? d.set : undefined) !== e[3]) return g[0] + '.' + StringCtor(e[0]);
    }
  }
  return '';
}

/* ---------- returning values: a JSON copy made with captured JSON.stringify ---------- */

function replacer(key, v) {
  if (typeof v === 'number') {
    if (v !== v) return { [TAG]: 'NaN' };
    if (v === 1 / 0) return { [TAG]: 'Infinity' };
    if (v === -1 / 0) return { [TAG]: '-Infinity' };
    return v;
  }
  if (typeof v === 'bigint') return NumberCtor(v);
  if (v !== null && typeof v === 'object') {
    const tag = apply(objToString, v, []);
    if (tag === '[object Set]') return arrFrom(v);
    if (tag === '[object Map]') { const o = {}; const es = arrFrom(v); for (let i = 0; i < es.length; i++) o[StringCtor(es[i][0])] = es[i][1]; return o; }
    if (!isArray(v) && typeof v.length === 'number' && apply(strIndexOf, tag, ['Array]']) > 0) return arrFrom(v);
  }
  return v;
}
function encode(value) {
  if (value === undefined) return stringify({ [TAG]: 'undefined' });
  const s = stringify(value, replacer);
  return s === undefined ? stringify({ [TAG]: 'undefined' }) : s;
}

function describeError(e) {
  try {
    if (e !== null && typeof e === 'object') {
      const name = e.name !== undefined ? StringCtor(e.name) : 'Error';
      const message = e.message !== undefined ? StringCtor(e.message) : '';
      return [name, message];
    }
    return ['Error', 'uncaught ' + typeof e + ': ' + StringCtor(e)];
  } catch (inner) {
    return ['Error', 'an error whose message cannot be read was thrown'];
  }
}

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

function lookup(name) {
  if (!apply(RegExpExec, /^[\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$_\u200c\u200d]*$/u, [name])) return undefined;
  let v;
  try { v = geval('typeof ' + name + ' === "undefined" ? undefined : ' + name); } catch (e) { v = undefined; }
  if (v === undefined) {
    const ex = moduleObj.exports;
    if (ex !== null && (typeof ex === 'object' || typeof ex === 'function')) {
      const d = getDesc(ex, name);
      if (d && hasOwn(d, 'value')) v = d.value;
      else if (typeof ex === 'function' && ex.name === name) v = ex;
    }
  }
  return v;
}

function settle(value) {
  if (isThenable(value)) {
    asyncState = 'pending';
    apply(promiseThen, apply(promiseResolve, PromiseCtor, [value]), [
      function (v) { asyncState = 'fulfilled'; asyncValue = v; },
      function (e) { asyncState = 'rejected'; const d = describeError(e); asyncError = d[0] + ': ' + d[1]; },
    ]);
  } else {
    asyncState = 'fulfilled';
    asyncValue = value;
  }
}

function call(arg) {
  const spec = parse(arg);
  let target;
  let self;
  if (spec.className) {
    const Cls = lookup(spec.className);
    if (typeof Cls !== 'function') { callErrorName = 'MissingFunction'; callError = "class '" + spec.className + "' is not defined"; return timers.length; }
    try { self = new Cls(); } catch (e) { const d = describeError(e); callErrorName = d[0]; callError = d[1]; return timers.length; }
    target = self[spec.fnName];
  } else {
    target = lookup(spec.fnName);
  }
  if (typeof target !== 'function') {
    callErrorName = 'MissingFunction';
    callError = (spec.className ? 'method ' : 'function ') + "'" + spec.fnName + "' is not defined" + (target === undefined ? '' : ' (it is a ' + typeof target + ')');
    return timers.length;
  }
  try {
    settle(apply(target, self, spec.args));
  } catch (e) {
    if (exitCalled) return timers.length;
    const d = describeError(e);
    callErrorName = d[0];
    callError = d[1];
  }
  return timers.length;
}

function finishStdio() {
  try {
    if (!exitCalled) {
      if (stdinListeners.readable) fire(stdinListeners, 'readable', []);
      if (stdinListeners.data && !stdinConsumed) { stdinConsumed = true; fire(stdinListeners, 'data', [cfg.stdin]); }
      fire(stdinListeners, 'end', []);
      fire(stdinListeners, 'close', []);
      for (let i = 0; i < interfaces.length && !exitCalled; i++) {
        const it = interfaces[i];
        if (it.rl.iterated) continue;
        const ls = lines();
        const qs = it.questions();
        for (let q = 0; q < qs.length && !exitCalled; q++) apply(qs[q], undefined, [stdinCursor < ls.length ? ls[stdinCursor++] : '']);
        if (it.listeners.line) {
          while (stdinCursor < ls.length && !it.isClosed() && !exitCalled) fire(it.listeners, 'line', [ls[stdinCursor++]]);
        }
        if (!exitCalled) it.rl.close();
      }
    }
  } catch (e) {
    if (!exitCalled) { const d = describeError(e); stdioErrorName = d[0]; stdioError = d[1]; }
  }
  return timers.length;
}

function tick() {
  try {
    return fireTimer();
  } catch (e) {
    if (!exitCalled) { const d = describeError(e); stdioErrorName = d[0]; stdioError = d[1]; }
    return -1;
  }
}

function collect(arg) {
  const opts = parse(arg);
  const out = {
    __proto__: null,
    stdout, stderr, truncated: stdoutCut || stderrCut, stdoutCut, stderrCut,
    exitCalled, exitCode: exitCalled ? exitCode : (exitCodeProp === undefined ? 0 : NumberCtor(exitCodeProp) | 0),
    consoleAssertFailures, firstConsoleAssert, assertFailures,
    asyncState, value: null, valueError: '',
    callError, callErrorName, stdioError, stdioErrorName,
    pendingTimers: timers.length,
    integrity: '',
    coverage: null,
    entryPointMissing: false,
  };
  if (asyncState === 'fulfilled' && opts.value) {
    try { out.value = encode(asyncValue); } catch (e) { const d = describeError(e); out.valueError = d[0] + ': ' + d[1]; }
  } else if (asyncState === 'rejected') {
    out.callErrorName = 'UnhandledRejection';
    out.callError = asyncError;
  }
  if (opts.integrity) out.integrity = integrity();
  if (opts.coverageVar) {
    try {
      const all = G[opts.coverageVar];
      const fc = all && all[opts.coveragePath];
      if (fc) out.coverage = stringify({ s: fc.s, b: fc.b, f: fc.f });
    } catch (e) { out.coverage = null; }
  }
  return stringify(out);
}

// Start a new test in a shared context: forget the previous test's output, errors and timers,
// and zero the coverage counters so that each collect reports one test's hits.
function reset(arg) {
  stdout = ''; stderr = ''; stdoutBytes = 0; stderrBytes = 0; stdoutCut = false; stderrCut = false;
  consoleAssertFailures = 0; firstConsoleAssert = ''; assertFailures = 0;
  asyncState = 'none'; asyncValue = undefined; asyncError = '';
  callError = ''; callErrorName = ''; stdioError = ''; stdioErrorName = '';
  timers = [];
  const parts = apply(strSplit, arg, ['\u0000']);
  try {
    const all = G[parts[0]];
    const fc = all && all[parts[1]];
    if (fc) {
      const zero = (o) => { const ks = objKeys(o); for (let i = 0; i < ks.length; i++) { const v = o[ks[i]]; if (isArray(v)) { for (let j = 0; j < v.length; j++) v[j] = 0; } else o[ks[i]] = 0; } };
      zero(fc.s); zero(fc.f); zero(fc.b);
      if (fc.bT) zero(fc.bT);
    }
  } catch (e) {}
  return 0;
}

function init(arg) {
  const c = parse(arg);
  cfg.stdin = c.stdin;
  cfg.maxOutputBytes = c.maxOutputBytes;
  cfg.env = c.env;
  cfg.files = freeze(c.files);
  if (c.integrity) snapshot();
}

// Math.random is a fixed-seed xorshift128+ in every context: same program, same draws, same verdict.
{
  let s0 = 0x9e3779b9 | 0, s1 = 0x243f6a88 | 0, s2 = 0xb7e15162 | 0, s3 = 0x2545f491 | 0;
  defineProperty(Math, 'random', {
    value: function random() {
      const t = s0 ^ (s0 << 11);
      s0 = s1; s1 = s2; s2 = s3;
      s3 = (s3 ^ (s3 >>> 19) ^ t ^ (t >>> 8)) | 0;
      return ((s3 >>> 0) * 2 ** 21 + ((s2 >>> 11) & 0x1fffff)) / 2 ** 53;
    },
    writable: true, enumerable: false, configurable: true,
  });
}

defineGlobal('console', fakeConsole, false);
defineGlobal('process', fakeProcess, false);
defineGlobal('require', function require(name) { return requireShim(name); }, false);
defineGlobal('module', moduleObj, false);
defineGlobal('exports', moduleObj.exports, false);
defineGlobal('assert', assertShim, false);
defineGlobal('readline', function readline() { const ls = lines(); return stdinCursor < ls.length ? ls[stdinCursor++] : undefined; }, false);
defineGlobal('print', function print() { writeOut(1, format(arguments) + '\n'); }, false);
defineGlobal('setTimeout', function setTimeout(fn, ms) { return addTimer(fn, ms, apply(arrSlice, arguments, [2]), false); }, false);
defineGlobal('setInterval', function setInterval(fn, ms) { return addTimer(fn, ms, apply(arrSlice, arguments, [2]), true); }, false);
defineGlobal('setImmediate', function setImmediate(fn) { return addTimer(fn, 0, apply(arrSlice, arguments, [1]), false); }, false);
defineGlobal('clearTimeout', clearTimer, false);
defineGlobal('clearInterval', clearTimer, false);
defineGlobal('clearImmediate', clearTimer, false);
defineGlobal('queueMicrotask', function queueMicrotask(fn) { microtask(fn); }, false);
defineGlobal('global', G, false);

return function ctl(op, arg) {
  switch (op) {
    case 'init': return init(arg);
    case 'call': return call(arg);
    case 'stdio': return finishStdio();
    case 'tick': return tick();
    case 'defined': return lookup(arg) !== undefined;
    case 'collect': return collect(arg);
    case 'reset': return reset(arg);
  }
  throw new ErrorCtor('unknown harness op ' + op);
};
})()`;

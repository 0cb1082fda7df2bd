const ivm = require('isolated-vm');
(async () => {
  const iso = new ivm.Isolate({ memoryLimit: 32 });
  const ctx = iso.createContextSync();
  // microtask drain after run?
  const r = iso.compileScriptSync(`globalThis.x = 0; Promise.resolve().then(()=>{ x = 1 }).then(()=>{ x=2 }); (function(){ return ()=> x })()`);
  const ref = await r.run(ctx, { reference: true, timeout: 100 });
  console.log('after run x =', ref.applySync(undefined, [], { timeout: 100 }));
  // microtask infinite loop
  try { await iso.compileScriptSync(`(async()=>{ while(true) await 0 })(); 1`).run(ctx, { timeout: 200 }); console.log('mt loop returned'); } catch (e) { console.log('mt loop err', e.message); }
  try { console.log(ctx.evalSync('1+1', {timeout: 100})); } catch (e) { console.log('after mt loop', e.message); }
  // timeout reuse
  try { await iso.compileScriptSync('while(true){}').run(ctx, { timeout: 50 }); } catch (e) { console.log('timeout err', e.constructor.name, e.message); }
  console.log('reuse', ctx.evalSync('x + 40', {timeout: 100}), iso.isDisposed);
  // recursion
  try { await iso.compileScriptSync('function f(){return f()+1} f()').run(ctx, { timeout: 500 }); } catch (e) { console.log('rec err', e.constructor.name, e.name, e.message); }
  // throw non-error
  try { await iso.compileScriptSync('throw {get message(){ while(1){} }}').run(ctx, { timeout: 500 }); } catch (e) { console.log('throw obj', typeof e, e && e.constructor && e.constructor.name, String(e).slice(0,100)); }
  try { iso.compileScriptSync('let a = ;'); } catch (e) { console.log('syntax', e.constructor.name, e.name, e.message); }
  // hop timing
  const ctl = await iso.compileScriptSync('(function(a){ return a })').run(ctx, { reference: true });
  let t = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) ctl.applySync(undefined, ['x'], { timeout: 100 });
  console.log('applySync us', Number(process.hrtime.bigint() - t) / 2000 / 1000);
  t = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) await ctl.apply(undefined, ['x'], { timeout: 100 });
  console.log('apply async us', Number(process.hrtime.bigint() - t) / 2000 / 1000);
  t = process.hrtime.bigint();
  for (let i = 0; i < 500; i++) { const c = iso.createContextSync(); c.release(); }
  console.log('context us', Number(process.hrtime.bigint() - t) / 500 / 1000);
  t = process.hrtime.bigint();
  for (let i = 0; i < 50; i++) { const x = new ivm.Isolate({memoryLimit: 32}); x.createContextSync(); x.dispose(); }
  console.log('isolate+ctx us', Number(process.hrtime.bigint() - t) / 50 / 1000);
  // memory bomb
  const m = new ivm.Isolate({ memoryLimit: 32 });
  const mc = m.createContextSync();
  try { await m.compileScriptSync('const a=[]; while(true) a.push(new Array(1e5).fill(1.5))').run(mc, { timeout: 5000 }); } catch (e) { console.log('mem err', e.message, m.isDisposed); }
  const m2 = new ivm.Isolate({ memoryLimit: 32 });
  const mc2 = m2.createContextSync();
  try { await m2.compileScriptSync('let s="x"; while(true) s+=s; ').run(mc2, { timeout: 5000 }); } catch (e) { console.log('str err', e.message, m2.isDisposed); }
  try { await m2.compileScriptSync('new ArrayBuffer(1e9).byteLength').run(mc2, { timeout: 5000 }).then(v=>console.log('ab ok',v)); } catch (e) { console.log('ab err', e.message, m2.isDisposed); }
  try { await m2.compileScriptSync('const a = new Array(1e8).fill(0); a.length').run(mc2, { timeout: 5000 }).then(v=>console.log('arr ok',v)); } catch (e) { console.log('bigarr err', e.message, m2.isDisposed); }
  console.log('eval in ctx', ctx.evalSync('const q = 5; (0,eval)("q")'));
})();

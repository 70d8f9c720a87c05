// TestFunction's node:vm runner and the XML subset, tested directly (no HTTP).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runFunction } from '../../emulator/runtime';
import { parseXml, XmlParseError, document, el } from '../../emulator/xml';

describe('TestFunction runner', () => {
  it('awaits async handlers (cloudfront-js-2.0 allows them)', async () => {
    const run = await runFunction('async function handler(e) { await null; return { statusCode: 302, v: e.v }; }', '{"v":1}');
    assert.equal(run.errorMessage, '');
    assert.deepEqual(JSON.parse(run.output), { statusCode: 302, v: 1 });
  });

  it('reports a missing handler, syntax errors and rejected promises', async () => {
    assert.match((await runFunction('var x = 1;', '{}')).errorMessage, /handler/);
    assert.match((await runFunction('function handler( {', '{}')).errorMessage, /Unexpected|SyntaxError|token/i);
    assert.match((await runFunction('async function handler() { throw new Error("late"); }', '{}')).errorMessage, /late/);
  });

  it('stops endless sync loops and endless microtask chains at the timeout', async () => {
    const started = performance.now();
    assert.match((await runFunction('function handler() { while (true) {} }', '{}', { budgetMs: 50 })).errorMessage, /time/);
    assert.match((await runFunction('async function handler() { for (;;) await null; }', '{}', { budgetMs: 50 })).errorMessage, /time/);
    assert.ok(performance.now() - started < 2000);
  });

  it('gives the code no host objects: no process, no require, no string eval', async () => {
    const run = await runFunction(
      'function handler() { return [typeof process, typeof require, typeof setTimeout, (() => { try { return (0, eval)("1"); } catch (e) { return "blocked"; } })()]; }',
      '{}',
    );
    assert.deepEqual(JSON.parse(run.output), ['undefined', 'undefined', 'undefined', 'blocked']);
  });

  it('collects console output as log lines', async () => {
    const run = await runFunction('function handler(e) { console.log("a", 1, {b: 2}); console.error("x"); return e; }', '{}');
    assert.deepEqual(run.logs, ['a 1 {"b":2}', 'x']);
  });
});

describe('XML subset', () => {
  it('decodes entities, character references and CDATA; skips declaration and comments', () => {
    const root = parseXml('<?xml version="1.0"?><!-- c --><A xmlns="x"><B>a &amp; &lt;b&gt; &#65;&#x42;</B><C><![CDATA[<raw>]]></C><D/></A>');
    assert.equal(root.name, 'A');
    assert.deepEqual(
      root.children.map((c) => [c.name, c.text]),
      [
        ['B', 'a & <b> AB'],
        ['C', '<raw>'],
        ['D', ''],
      ],
    );
  });

  it('rejects malformed documents and DTDs', () => {
    for (const bad of ['<A><B></A>', '<A>', 'text', '<A/><B/>', '<!DOCTYPE x><A/>', '']) {
      assert.throws(() => parseXml(bad), XmlParseError, bad);
    }
  });

  it('rejects character references to characters XML does not allow', () => {
    for (const bad of ['&#x110000;', '&#xD800;', '&#xDFFF;', '&#0;', '&#x1;', '&#xFFFE;', '&#xFFFF;', '&#99999999999999999999;']) {
      assert.throws(() => parseXml(`<A>${bad}</A>`), XmlParseError, bad);
    }
    assert.equal(parseXml('<A>&#9;&#xA;&#xD;&#x20;&#xD7FF;&#xE000;&#xFFFD;&#x10000;&#x10FFFF;</A>').text, '\t\n\r \uD7FF\uE000\uFFFD\u{10000}\u{10FFFF}');
  });

  it('escapes what it writes, and round-trips', () => {
    const xml = document('R', el('V', `<&>"'`));
    assert.match(xml, /<V>&lt;&amp;&gt;&quot;&apos;<\/V>/);
    assert.equal(parseXml(xml).children[0]?.text, `<&>"'`);
  });
});

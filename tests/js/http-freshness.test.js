// When the browser's HTTP-cached copy of a response stops being fresh (web/offline/http-freshness.js), which
// decides whether the service worker may leave a request to the browser.

import assert from "node:assert/strict";
import { test } from "node:test";
import { freshUntil } from "../../web/offline/http-freshness.js";

const DATE = "Thu, 03 Dec 2026 16:00:00 GMT";
const SENT = Date.parse(DATE);

/** @param {Record<string, string>} headers */
const until = (headers) => freshUntil(new Headers(headers));

test("a response is fresh for max-age seconds after its Date", () => {
  assert.equal(until({ "Cache-Control": "public, max-age=604800", Date: DATE }), SENT + 604_800_000);
});

test("the time it already spent in another cache (Age) is taken off", () => {
  assert.equal(until({ "Cache-Control": "max-age=600", Date: DATE, Age: "60" }), SENT + 540_000);
});

test("directives are read whatever their case and spacing", () => {
  assert.equal(until({ "Cache-Control": "Public ,MAX-AGE=10", Date: DATE }), SENT + 10_000);
});

test("a response that must always be revalidated is never fresh", () => {
  assert.equal(until({ "Cache-Control": "no-cache", Date: DATE }), null);
  assert.equal(until({ "Cache-Control": "max-age=600, no-store", Date: DATE }), null);
});

test("without a max-age or a Date there is no lifetime to go by", () => {
  assert.equal(until({ Date: DATE }), null);
  assert.equal(until({ "Cache-Control": "s-maxage=600", Date: DATE }), null);
  assert.equal(until({ "Cache-Control": "max-age=600" }), null);
  assert.equal(until({ "Cache-Control": "max-age=600", Date: "yesterday-ish" }), null);
  assert.equal(until({ "Cache-Control": "max-age=soon", Date: DATE }), null);
});

import { describe, expect, it } from "vitest";
import { WebhookSourceSchema } from "./config-schema.ts";
import { idempotencyKey } from "./idempotency-key.ts";

const auth = { bearer: { token_env: "T" } };
const byHeader = WebhookSourceSchema.parse({ auth, idempotency: { header: "Linear-Delivery" } });
const byPath = WebhookSourceSchema.parse({ auth, idempotency: { path: "event.id" } });

describe("idempotencyKey", () => {
  it("reads a header, whatever the case of its name", () => {
    const id = "234d1a4e-b617-4388-90fe-adc3633d6b72";
    expect(idempotencyKey(byHeader, { "linear-delivery": id }, {})).toBe(id);
    expect(idempotencyKey(byHeader, { "Linear-Delivery": ` ${id} ` }, {})).toBe(id);
  });

  it("reads a body path holding a string or a number", () => {
    expect(idempotencyKey(byPath, {}, { event: { id: "evt_1" } })).toBe("evt_1");
    expect(idempotencyKey(byPath, {}, { event: { id: 42 } })).toBe("42");
  });

  it("is undefined without a rule, or when the value is missing, empty or not a string/number", () => {
    expect(
      idempotencyKey(WebhookSourceSchema.parse({ auth }), { "linear-delivery": "x" }, {}),
    ).toBeUndefined();
    expect(idempotencyKey(byHeader, {}, {})).toBeUndefined();
    expect(idempotencyKey(byHeader, { "linear-delivery": "  " }, {})).toBeUndefined();
    expect(idempotencyKey(byPath, {}, { event: { id: { nested: 1 } } })).toBeUndefined();
    expect(idempotencyKey(byPath, {}, { event: { id: Number.NaN } })).toBeUndefined();
    expect(idempotencyKey(byPath, {}, null)).toBeUndefined();
  });

  it("replaces a key longer than 200 characters by its SHA-256", () => {
    const key = idempotencyKey(byHeader, { "linear-delivery": "k".repeat(500) }, {});
    expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(idempotencyKey(byHeader, { "linear-delivery": "k".repeat(500) }, {})).toBe(key);
    expect(idempotencyKey(byHeader, { "linear-delivery": "k".repeat(200) }, {})).toBe("k".repeat(200));
  });
});

// Trace messages are built lazily: emit() takes a builder and calls it only for an event it
// stores, so a run with the trace full (or limits.traceEvents: 0) formats no text. Counts, costs
// and simulated time still include every event.
import { describe, expect, it } from "vitest";
import { Trace } from "../../src/sim/trace.js";

describe("lazy trace messages", () => {
  it("calls the builder once for a stored event and never for a dropped one, while stats count both", () => {
    const trace = new Trace(1, 1000);
    let built = 0;
    const message = () => {
      built++;
      return `built ${built}`;
    };
    const stored = trace.emit("map", message, { cost: 2000 });
    const dropped = trace.emit("map", message, { cost: 3000 });
    expect(built).toBe(1);
    expect(stored.message).toBe("built 1");
    expect(dropped.message).toBe("(trace limit reached)");
    expect(trace.events.map((e) => e.message)).toEqual(["built 1"]);
    expect(trace.stats()).toMatchObject({ events: { map: 2 }, cost: { total: 5000 }, time: 5, droppedEvents: 1 });
  });

  it("stores the same keys in the same order as before: the fields first, then seq, kind, cost, time, message, severity", () => {
    const trace = new Trace(10, 1000);
    const event = trace.emit("bounce", () => "text", { domain: "dom0", device: "sda", cost: 7, severity: "warning" });
    expect(Object.keys(event)).toEqual(["domain", "device", "cost", "severity", "seq", "kind", "time", "message"]);
    expect(event).toMatchObject({ seq: 1, kind: "bounce", cost: 7, severity: "warning", message: "text" });
  });
});

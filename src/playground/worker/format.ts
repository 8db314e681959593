// Turns console arguments into one line of text, roughly as a browser console would,
// without relying on the structured-clone of arbitrary values (functions, cycles).

export function formatArgs(args: readonly unknown[]): string {
  return args.map((a) => (typeof a === "string" ? a : formatValue(a, 0, new WeakSet()))).join(" ");
}

function formatValue(value: unknown, depth: number, seen: WeakSet<object>): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "bigint":
      return `${value}n`;
    case "function":
      return `[Function ${value.name || "(anonymous)"}]`;
    case "symbol":
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
  }
  if (value === null) return "null";
  const obj = value as object;
  if (obj instanceof Error) return `${obj.name}: ${obj.message}`;
  if (seen.has(obj)) return "[Circular]";
  if (depth > 3) return Array.isArray(obj) ? "[Array]" : "[Object]";
  seen.add(obj);
  try {
    if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
      const items = Array.from(obj as unknown as ArrayLike<number | bigint>);
      const shown = items.slice(0, 32).map(String).join(", ");
      return `${obj.constructor.name}(${items.length}) [${shown}${items.length > 32 ? ", …" : ""}]`;
    }
    if (Array.isArray(obj)) return `[${obj.map((v) => formatValue(v, depth + 1, seen)).join(", ")}]`;
    if (obj instanceof Map) {
      const entries = [...obj].map(([k, v]) => `${formatValue(k, depth + 1, seen)} => ${formatValue(v, depth + 1, seen)}`);
      return `Map(${obj.size}) {${entries.join(", ")}}`;
    }
    if (obj instanceof Set) return `Set(${obj.size}) {${[...obj].map((v) => formatValue(v, depth + 1, seen)).join(", ")}}`;
    const entries = Object.entries(obj).map(([k, v]) => `${k}: ${formatValue(v, depth + 1, seen)}`);
    return `{ ${entries.join(", ")} }`.replace("{  }", "{}");
  } finally {
    seen.delete(obj);
  }
}

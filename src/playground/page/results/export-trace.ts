// "Export trace as JSON": the run's machines (trace, stats) as a file the reader keeps.
import type { MachineReport } from "../../common/protocol.js";

export function exportTrace(machines: readonly MachineReport[], fileName = "dma-lab-trace.json"): void {
  const data = {
    exported: new Date().toISOString(),
    page: location.pathname,
    machines: machines.map(({ label, stats, trace, omitted }) => ({ label, stats, omittedEvents: omitted, trace })),
  };
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoke later: revoking at once can cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

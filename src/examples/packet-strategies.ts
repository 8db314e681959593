import { compareStrategies, packetStream, PACKET_MAPPINGS } from "dma-lab";
// 500 received 1500-byte packets on a 10 Gb/s NIC, once per mapping strategy, each on a fresh
// bare-metal machine with the same default costs. Try hypervisor: "xen", or costs: { iotlbFlush: 500 }.
const scenario = packetStream({ packets: 500, packetSize: 1500, lineRateGbps: 10, hypervisor: "none" });
const results = compareStrategies(
  scenario,
  PACKET_MAPPINGS.map((mapping) => ({ name: mapping, mapping })),
);

results.sort((a, b) => a.perOp - b.perOp);
for (const r of results) {
  const top = Object.entries(r.breakdown)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([kind, cycles]) => `${kind} ${Math.round(cycles / r.ops)}`)
    .join(", ");
  console.log(
    `${r.name.padEnd(10)} ${String(Math.round(r.perOp)).padStart(5)} cycles/packet  ` +
      `${r.metrics.throughputGbps.toFixed(2).padStart(5)} Gb/s   (${top})`,
  );
}

import { SimError, describeValue } from "../errors.js";
import { compareStrategies } from "./compare.js";
import type { StrategyResult } from "./compare.js";
import { packetStream } from "./packet-stream.js";
import type { PacketStrategy, PacketStreamOptions } from "./packet-stream.js";

/**
 * The three published comparisons the cost model must rank the same way, each rebuilt as a packet stream in the simulator with the ONE set of
 * default constants (DEFAULT_COSTS; nothing here overrides a cost). Published figures carry where
 * they were read; numbers not checked against the paper's text are marked unverified (see
 * docs/reference/sources.mdx, "What it costs").
 */

/** One published figure (or a verified qualitative statement with `value: null`). */
export interface PublishedFigure {
  /** The strategy, by its {@link PacketMapping} name (e.g. "strict"). */
  strategy: string;
  /** In the study's metric unit; null when the source states only an order or a range. */
  value: number | null;
  /** The source's words. */
  text: string;
  /** False if the figure was not checked against the source text. */
  verified: boolean;
}

/** One group of the published order: strategies the study puts level, and how they relate to the previous group. */
export interface RankingGroup {
  /** Strategy names the study ranks level with each other. */
  strategies: string[];
  /** "<": strictly better than every strategy of the previous group; "<=": at least as good. Ignored for the first group. */
  relation: "<" | "<=";
}

/** One strategy's simulated figure, next to the published one. */
export interface SimulatedFigure {
  /** The strategy's name. */
  strategy: string;
  /** In the study's metric unit. */
  value: number;
  /** Simulated CPU cycles per packet in the measured window. */
  cyclesPerPacket: number;
  /** Modelled throughput in Gb/s: min(line rate, what one 1 GHz CPU sustains at cyclesPerPacket). */
  throughputGbps: number;
  /** throughputGbps / line rate, from 0 to 1. */
  fractionOfLineRate: number;
  /** The strategy ran without errors. */
  ok: boolean;
}

/** The simulated side of a study: figures, the full comparison, and whether the order matches. */
export interface SimulatedStudy {
  /** One simulated figure per strategy, in the study's order. */
  figures: SimulatedFigure[];
  /** True when the simulated figures respect every relation of the published ranking. */
  rankingMatches: boolean;
  /** Each broken pair of the published order, e.g. "deferred should beat strict". Empty when it matches. */
  mismatches: string[];
  /** The full {@link compareStrategies} results behind the figures. */
  results: StrategyResult[];
  /** Packets simulated per strategy. */
  packets: number;
}

/** A published comparison and its rebuild in the simulator. Plain data except the lazy `simulated`. */
export interface LiteratureStudy {
  /** Short id: "viommu" (Amit et al., ATC 2011), "willmann" (Willmann et al., ATC 2008), "markuze" (Markuze et al., ASPLOS 2016). */
  id: "viommu" | "willmann" | "markuze";
  /** Full citation. */
  citation: string;
  /** Where the figures were read. */
  source: string;
  /** Link to the source. */
  url: string;
  /** What the study compares, in a sentence. */
  claim: string;
  /** The compared quantity: its name, unit, and whether more is better. */
  metric: { name: string; unit: string; higherIsBetter: boolean };
  /** The study's figures and statements, as read from the source. */
  published: PublishedFigure[];
  /** The published order, worst first. */
  ranking: RankingGroup[];
  /** The simulated workload (identical for every strategy of the study). */
  workload: PacketStreamOptions;
  /** The strategies compared, as {@link packetStream} strategies. */
  strategies: PacketStrategy[];
  /** Differences between the paper's setting and the simulation, and unverified details. */
  notes: string[];
  /** Runs the study on first access (default packet count) and keeps the result. */
  readonly simulated: SimulatedStudy;
}

/** Packets per strategy when LITERATURE's `simulated` runs (more than two trips round the 256-entry ring). */
export const LITERATURE_PACKETS = 1000;

const COMMON_NOTES = [
  "Each study runs on the platform it measured: vIOMMU and Markuze et al. on bare-metal Linux (hypervisor: \"none\", the kernel programs its own IOMMU); Willmann et al. under a hypervisor that owns the IOMMU (hypervisor: \"xen\", every IOMMU map and unmap is a hypercall). Absolute numbers are model outputs; the ORDER is what must match.",
  "Throughput model (assumption): one simulated 1 GHz CPU does all per-packet work; throughput = min(line rate, packet bits / CPU time per packet).",
  "Per-packet stack and driver work is costs.packetProcessing (model assumption, anchored to bare-metal Linux sustaining 10 Gb/s of 1500-byte packets).",
];

type StudyDefinition = Omit<LiteratureStudy, "simulated">;

const DEFINITIONS: StudyDefinition[] = [
  {
    id: "viommu",
    citation: "Nadav Amit, Muli Ben-Yehuda, Dan Tsafrir, Assaf Schuster. vIOMMU: Efficient IOMMU Emulation. USENIX ATC 2011.",
    source: "Abstract (research.ibm.com publication page) and course notes cse.iitd.ac.in/~sbansal/csl862-virt/lec/vIOMMU.txt",
    url: "https://research.ibm.com/publications/viommu-efficient-iommu-emulation",
    claim: "IOTLB invalidation policy decides how much of a 10 Gb/s line a Linux host with IOMMU protection can use: strict < deferred (batched) < optimistic teardown.",
    metric: { name: "throughput", unit: "% of line rate", higherIsBetter: true },
    published: [
      { strategy: "strict", value: 43, text: "Without relaxation (strict protection), Linux-2.6.36 only achieves 43% of the line rate of a 10Gbps NIC", verified: true },
      { strategy: "deferred", value: 91, text: "batch invalidation of stale IOTLB entries and collectively purging them every 10ms. Transforms aforesaid 43% to 91% saturation of line rate", verified: true },
      { strategy: "optimistic", value: 100, text: "waiting a few milliseconds before tearing down an IOMMU mapping in the hope it will be immediately reused (\"optimistic teardown\") ... allows bare-metal to achieve 100% of a 10Gbps line rate", verified: true },
      { strategy: "none", value: null, text: "(reference: no IOMMU; the study gives no separate figure)", verified: true },
    ],
    ranking: [
      { strategies: ["strict"], relation: "<" },
      { strategies: ["deferred"], relation: "<" },
      { strategies: ["optimistic"], relation: "<" },
    ],
    workload: { hypervisor: "none", lineRateGbps: 10, packetSize: 1500, direction: "rx" },
    strategies: [
      { name: "strict", mapping: "strict" },
      { name: "deferred", mapping: "deferred" },
      { name: "optimistic", mapping: "optimistic" },
      { name: "none", mapping: "none" },
    ],
    notes: [...COMMON_NOTES, "Packet size, direction and ring size are model assumptions (the course notes name netperf on a 10 Gb/s NIC, not the packet size)."],
  },
  {
    id: "willmann",
    citation: "Paul Willmann, Scott Rixner, Alan L. Cox. Protection Strategies for Direct Access to Virtualized I/O Devices. USENIX ATC 2008.",
    source: "Abstract (sciweavers.org / USENIX); result tables not read",
    url: "https://www.usenix.org/legacy/events/usenix08/tech/full_papers/willmann/willmann_html/index.html",
    claim: "Per-packet cost of IOMMU protection strategies for a guest with direct device access: direct map cheapest, reusing mappings (shared, persistent) in between, single-use mappings dearest.",
    metric: { name: "CPU cost", unit: "cycles per packet", higherIsBetter: false },
    published: [
      { strategy: "direct-map", value: null, text: "A simple direct-map strategy incurs the least overhead, providing native-level performance but offering no enhanced protection from misbehaving device drivers within the guest", verified: true },
      { strategy: "shared", value: null, text: "protection ... by limiting IOMMU page-table mappings to memory buffers that are actually used in I/O transfers; that cost is minimized by aggressively reusing mappings", verified: true },
      { strategy: "persistent", value: null, text: "(as shared: a reuse strategy; its order relative to shared is not given in the abstract)", verified: true },
      { strategy: "single-use", value: null, text: "(mappings created and destroyed for every transfer: the strategy the reuse strategies improve on; said to cost tens of percent more CPU per packet — unverified)", verified: false },
    ],
    ranking: [
      { strategies: ["single-use"], relation: "<" },
      { strategies: ["shared", "persistent"], relation: "<" },
      { strategies: ["direct-map"], relation: "<" },
    ],
    workload: { hypervisor: "xen", lineRateGbps: 10, packetSize: 1500, direction: "rx" },
    strategies: [
      { name: "single-use", mapping: "single-use" },
      { name: "shared", mapping: "shared" },
      { name: "persistent", mapping: "persistent" },
      { name: "direct-map", mapping: "direct-map" },
    ],
    notes: [
      ...COMMON_NOTES,
      "No figure of the paper's results section was checked: only the order stated in the abstract is compared.",
      "In this ring workload every freed buffer is posted again at once, so shared and persistent both reuse every mapping and cost the same; the paper's relative order of the two is not asserted.",
      "direct-map differs from persistent only by the driver-side lookup (costs.mappingLookup vs costs.directMap).",
    ],
  },
  {
    id: "markuze",
    citation: "Alex Markuze, Adam Morrison, Dan Tsafrir. True IOMMU Protection from DMA Attacks: When Copy Is Faster Than Zero Copy. ASPLOS 2016, pp. 249–262.",
    source: "Abstract (cris.iucc.ac.il, docslib.org copy of the paper)",
    url: "https://cris.iucc.ac.il/en/publications/true-iommu-protection-from-dma-attacks-when-copy-is-faster-than-z-2",
    claim: "Copying each packet to/from permanently mapped shadow buffers beats mapping and unmapping every buffer (strict): up to 5× the throughput, and within 0–25% of no IOMMU at all.",
    metric: { name: "throughput", unit: "× strict map/unmap", higherIsBetter: true },
    published: [
      { strategy: "strict", value: 1, text: "the safest preexisting usage model (map and unmap every target buffer right before and after its DMA): the baseline", verified: true },
      { strategy: "copy", value: 5, text: "despite being more secure than the safest preexisting usage model, our approach provides up to 5x higher throughput", verified: true },
      { strategy: "none", value: null, text: "whereas it is inherently less scalable than an IOMMU-less (unprotected) system, our approach incurs only 0% - 25% performance degradation in comparison", verified: true },
    ],
    ranking: [
      { strategies: ["strict"], relation: "<" },
      { strategies: ["copy"], relation: "<" },
      { strategies: ["none"], relation: "<=" },
    ],
    workload: { hypervisor: "none", lineRateGbps: 40, packetSize: 1500, direction: "rx" },
    strategies: [
      { name: "strict", mapping: "strict" },
      { name: "copy", mapping: "copy" },
      { name: "none", mapping: "none" },
    ],
    notes: [
      ...COMMON_NOTES,
      "A 40 Gb/s NIC as in the paper; the shadow-buffer copy costs costs.bounceBase + costs.memcpyPerByte per byte, like any bounce.",
      "'up to 5×' is the paper's best case; the simulation runs one workload, so its ratio is one point, not a maximum.",
      "Only the order is asserted, not the size of the gaps: copy's distance to no IOMMU may exceed the published 0–25% here, since the memcpy cost per byte is a model assumption.",
    ],
  },
];

/** Whether `values` (by strategy) respect the study's published order; returns the broken pairs. */
export function checkRanking(study: Pick<LiteratureStudy, "ranking" | "metric">, values: Readonly<Record<string, number>>): string[] {
  const better = (a: number, b: number) => (study.metric.higherIsBetter ? a > b : a < b);
  const mismatches: string[] = [];
  for (let i = 1; i < study.ranking.length; i++) {
    const group = study.ranking[i]!;
    for (const winner of group.strategies) {
      for (const loser of study.ranking[i - 1]!.strategies) {
        const w = values[winner];
        const l = values[loser];
        if (w === undefined || l === undefined) {
          mismatches.push(`no simulated figure for ${w === undefined ? winner : loser}`);
          continue;
        }
        const ok = group.relation === "<" ? better(w, l) : !better(l, w);
        if (!ok) mismatches.push(`${winner} should ${group.relation === "<" ? "beat" : "at least match"} ${loser} (simulated ${round(w)} vs ${round(l)} ${study.metric.unit})`);
      }
    }
  }
  return mismatches;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Runs one study's strategies on its workload with the default constants. */
export function simulateStudy(study: Pick<LiteratureStudy, "id" | "workload" | "strategies" | "ranking" | "metric">, packets = LITERATURE_PACKETS): SimulatedStudy {
  if (typeof packets !== "number" || !Number.isSafeInteger(packets) || packets < 1 || packets > 100_000) {
    throw new SimError("INVALID_ARGUMENT", `simulateStudy: packets must be a whole number from 1 to 100000, got ${describeValue(packets)}`, "packets");
  }
  const results = compareStrategies(packetStream({ ...study.workload, packets }), study.strategies);
  const metric = (r: StrategyResult): number => {
    if (study.id === "viommu") return (r.metrics.fractionOfLineRate ?? 0) * 100;
    if (study.id === "willmann") return r.perOp;
    const strict = results.find((x) => x.name === "strict");
    return strict && strict.metrics.throughputGbps ? (r.metrics.throughputGbps ?? 0) / strict.metrics.throughputGbps : 0;
  };
  const figures = results.map((r) => ({
    strategy: r.name,
    value: metric(r),
    cyclesPerPacket: r.perOp,
    throughputGbps: r.metrics.throughputGbps ?? 0,
    fractionOfLineRate: r.metrics.fractionOfLineRate ?? 0,
    ok: r.ok,
  }));
  const mismatches = checkRanking(study, Object.fromEntries(figures.map((f) => [f.strategy, f.value])));
  for (const f of figures) if (!f.ok) mismatches.push(`${f.strategy} did not run cleanly`);
  return { figures, rankingMatches: mismatches.length === 0, mismatches, results, packets };
}

function withLazySimulation(definition: StudyDefinition): LiteratureStudy {
  let cached: SimulatedStudy | undefined;
  const study = { ...definition } as LiteratureStudy;
  Object.defineProperty(study, "simulated", {
    enumerable: true,
    get: () => (cached ??= simulateStudy(definition)),
  });
  return Object.freeze(study);
}

/**
 * The three literature comparisons, published figures beside simulated ones (`study.simulated`,
 * computed on first access with {@link LITERATURE_PACKETS} packets per strategy).
 * @example
 * for (const s of LITERATURE) console.log(s.id, s.simulated.rankingMatches, s.simulated.figures);
 */
export const LITERATURE: readonly LiteratureStudy[] = Object.freeze(DEFINITIONS.map(withLazySimulation));

import { SimError, describeValue } from "../errors.js";
import { compareStrategies } from "./compare.js";
import type { StrategyResult } from "./compare.js";
import { packetStream } from "./packet-stream.js";
import type { PacketStrategy, PacketStreamOptions } from "./packet-stream.js";

/**
 * The three published comparisons the cost model must reproduce, each rebuilt as a packet stream
 * in the simulator with the ONE set of default constants (DEFAULT_COSTS; nothing here overrides a
 * cost): the published order of strategies, and where a study gives numbers, each number within a
 * stated tolerance ({@link PublishedTarget}). Published figures carry where they were read; numbers
 * not checked against the source text are marked unverified. Sources: the "What it costs" page.
 */

/** One published figure (or a verified qualitative statement with `value: null`). */
export interface PublishedFigure {
  /** The strategy, by its {@link PacketMapping} name (e.g. "strict"). */
  strategy: string;
  /** In the study's metric unit; null when the source states only an order or a range. */
  value: number | null;
  /** How the source states it: its words in “quotation marks”, with where they were read. */
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

/**
 * A published number the simulation must come close to: a strategy's figure in the study's metric,
 * or a strategy's shortfall (in %) against another. Percentages get ± points, ratios a factor.
 */
export interface PublishedTarget {
  /** What is compared, e.g. "strict, % of line rate". */
  label: string;
  /** The published value (low = high) or range, e.g. Markuze et al.'s "0%–25%". */
  published: { low: number; high: number };
  /** The number as the source states it, e.g. "up to 5×". */
  text: string;
  /** The simulated side: `strategy`'s figure, or with `shortfallAgainst` 100 × (1 − figure / that strategy's figure). */
  measure: { strategy: string; shortfallAgainst?: string };
  /** How far the simulation may be: ± `points` around the range, or within a `factor` of it. */
  tolerance: { points: number } | { factor: number };
  /** What the model lacks that this number depends on (shown on the page whether or not it is met). */
  caveat?: string;
}

/** One {@link PublishedTarget} checked against the simulation. */
export interface TargetCheck {
  /** The target's label. */
  label: string;
  /** The published number, as the source states it. */
  text: string;
  /** The simulated number, in the target's unit. */
  simulated: number;
  /** The interval the simulated number must fall in (published range widened by the tolerance). */
  allowed: { low: number; high: number };
  /** The tolerance in words, e.g. "±10 points" or "within ×1.5". */
  tolerance: string;
  /** True when the simulated number is inside `allowed`. */
  within: boolean;
  /** The target's caveat, if any. */
  caveat?: string;
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
  /** Each published number checked against the simulation (empty for a study that gives only an order). */
  checks: TargetCheck[];
  /** True when every check is within its tolerance. */
  withinTolerance: boolean;
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
  /** Published numbers the simulation must reach within a tolerance (none when the study is compared by order only). */
  targets: PublishedTarget[];
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
  'Each study runs on the platform it measured: vIOMMU and Markuze et al. on bare-metal Linux (hypervisor: "none", the kernel programs its own IOMMU); Willmann et al. under a hypervisor that owns the IOMMU (hypervisor: "xen", every IOMMU map and unmap is a hypercall). The order must match; where the study gives numbers, each must come within its stated tolerance with the same constants for every study.',
  "Throughput model (assumption): one simulated 1 GHz CPU does all per-packet work; throughput = min(line rate, packet bits / CPU time per packet).",
  "Per-packet stack and driver work is costs.packetProcessing (model assumption, bounded by bare-metal Linux sustaining 10 Gb/s of 1500-byte packets and by Markuze et al.'s 0–25% cost of copying every packet).",
];

type StudyDefinition = Omit<LiteratureStudy, "simulated">;

const DEFINITIONS: StudyDefinition[] = [
  {
    id: "viommu",
    citation: "Nadav Amit, Muli Ben-Yehuda, Dan Tsafrir, Assaf Schuster. vIOMMU: Efficient IOMMU Emulation. USENIX ATC 2011.",
    source:
      "The 100% is in the abstract (research.ibm.com publication page). 43% and 91% are in the USENIX ATC 2011 talk slides (slide 17, table “Setting / Secure (No IOTLB Batching) / Relaxed (Linux Default; IOTLB Batching) / Optimistic (Patched; IOTLB Batching)”, row “Bare-metal 43% 91% 100%”; copy at sambuz.com/doc/1-ppt-presentation-685420) and in the course notes cse.iitd.ac.in/~sbansal/csl862-virt/lec/vIOMMU.txt. The paper’s own page, table or figure for 43% and 91% was not read.",
    url: "https://research.ibm.com/publications/viommu-efficient-iommu-emulation",
    claim:
      "IOTLB invalidation policy decides how much of a 10 Gb/s line a Linux host with IOMMU protection can use: strict < deferred (batched) < optimistic teardown.",
    metric: { name: "throughput", unit: "% of line rate", higherIsBetter: true },
    published: [
      {
        strategy: "strict",
        value: 43,
        text: "Talk slide 17, bare metal, “Secure (No IOTLB Batching)”: 43%. Course notes: “Without relaxation (strict protection), Linux-2.6.36 only achieves 43% of the line rate of a 10Gbps NIC”",
        verified: true,
      },
      {
        strategy: "deferred",
        value: 91,
        text: "Talk slide 17, bare metal, “Relaxed (Linux Default; IOTLB Batching)”: 91%. Course notes: “batch invalidation of stale IOTLB entries and collectively purging them every 10ms. Transforms aforesaid 43% to 91% saturation of line rate”",
        verified: true,
      },
      {
        strategy: "optimistic",
        value: 100,
        text: "Talk slide 17, bare metal, “Optimistic (Patched; IOTLB Batching)”: 100%. Abstract: “waiting a few milliseconds before tearing down an IOMMU mapping in the hope it will be immediately reused (“optimistic teardown”) ... allows bare-metal to achieve 100% of a 10Gbps line rate”",
        verified: true,
      },
      { strategy: "none", value: null, text: "(reference: no IOMMU; the study gives no separate figure)", verified: true },
    ],
    ranking: [
      { strategies: ["strict"], relation: "<" },
      { strategies: ["deferred"], relation: "<" },
      { strategies: ["optimistic"], relation: "<" },
    ],
    targets: [
      {
        label: "strict, % of line rate",
        published: { low: 43, high: 43 },
        text: "43%",
        measure: { strategy: "strict" },
        tolerance: { points: 10 },
        caveat:
          "The same talk measured 6,909 cycles per strict (un)map of one page on bare metal: 4,593 of software “logic” and 2,316 of “SW/HW interaction” (slide 16). No one-CPU model can use that split together with 43% → 91%: removing only the per-unmap invalidation lifts throughput at most (logic + interaction) / logic = 1.5×, not 91/43 = 2.1×. The model therefore prices the software side lower than measured; whatever makes strict’s software path dearer than deferred’s in the kernel (Malka et al., FAST 2015: the IOVA allocator “regularly induces linear complexity”) is not modelled.",
      },
      {
        label: "deferred, % of line rate",
        published: { low: 91, high: 91 },
        text: "91%",
        measure: { strategy: "deferred" },
        tolerance: { points: 10 },
      },
      {
        label: "optimistic teardown, % of line rate",
        published: { low: 100, high: 100 },
        text: "100%",
        measure: { strategy: "optimistic" },
        tolerance: { points: 10 },
      },
    ],
    workload: { hypervisor: "none", lineRateGbps: 10, packetSize: 1500, direction: "rx" },
    strategies: [
      { name: "strict", mapping: "strict" },
      { name: "deferred", mapping: "deferred" },
      { name: "optimistic", mapping: "optimistic" },
      { name: "none", mapping: "none" },
    ],
    notes: [
      ...COMMON_NOTES,
      "Packet size, direction and ring size are model assumptions (the course notes name netperf on a 10 Gb/s NIC, not the packet size).",
      "Optimistic teardown batches its invalidations like deferred (“Optimistic (Patched; IOTLB Batching)”); in this ring every buffer is reused long before its mapping would expire.",
    ],
  },
  {
    id: "willmann",
    citation:
      "Paul Willmann, Scott Rixner, Alan L. Cox. Protection Strategies for Direct Access to Virtualized I/O Devices. USENIX ATC 2008.",
    source: "Abstract (sciweavers.org / USENIX); result tables not read",
    url: "https://www.usenix.org/legacy/events/usenix08/tech/full_papers/willmann/willmann_html/index.html",
    claim:
      "Per-packet cost of IOMMU protection strategies for a guest with direct device access: direct map cheapest, reusing mappings (shared, persistent) in between, single-use mappings dearest.",
    metric: { name: "CPU cost", unit: "cycles per packet", higherIsBetter: false },
    published: [
      {
        strategy: "direct-map",
        value: null,
        text: "“A simple direct-map strategy incurs the least overhead, providing native-level performance but offering no enhanced protection from misbehaving device drivers within the guest”",
        verified: true,
      },
      {
        strategy: "shared",
        value: null,
        text: "Protection “by limiting IOMMU page-table mappings to memory buffers that are actually used in I/O transfers”; that cost is “minimized by aggressively reusing mappings”",
        verified: true,
      },
      {
        strategy: "persistent",
        value: null,
        text: "(as shared: a reuse strategy; its order relative to shared is not given in the abstract)",
        verified: true,
      },
      {
        strategy: "single-use",
        value: null,
        text: "(mappings created and destroyed for every transfer: the strategy the reuse strategies improve on; said to cost tens of percent more CPU per packet — unverified)",
        verified: false,
      },
    ],
    ranking: [
      { strategies: ["single-use"], relation: "<" },
      { strategies: ["shared", "persistent"], relation: "<" },
      { strategies: ["direct-map"], relation: "<" },
    ],
    targets: [],
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
    citation:
      "Alex Markuze, Adam Morrison, Dan Tsafrir. True IOMMU Protection from DMA Attacks: When Copy Is Faster Than Zero Copy. ASPLOS 2016, pp. 249–262.",
    source:
      "Abstract, p. 249 of the ASPLOS 2016 proceedings (cris.iucc.ac.il, ACM; docslib.org and paperzz.com copies of the authors’ version). The evaluation’s figures were not read, so which benchmark gives the 5× is not known here.",
    url: "https://cris.iucc.ac.il/en/publications/true-iommu-protection-from-dma-attacks-when-copy-is-faster-than-z-2",
    claim:
      "Copying each packet to/from permanently mapped shadow buffers beats mapping and unmapping every buffer (strict): up to 5× the throughput, and within 0–25% of no IOMMU at all.",
    metric: { name: "throughput", unit: "× strict map/unmap", higherIsBetter: true },
    published: [
      {
        strategy: "strict",
        value: 1,
        text: "The baseline: “the safest preexisting usage model”, in which the OS maps and unmaps “every target buffer right before and after its DMA”",
        verified: true,
      },
      {
        strategy: "copy",
        value: 5,
        text: "“despite being more secure than the safest preexisting usage model, our approach provides up to 5× higher throughput”",
        verified: true,
      },
      {
        strategy: "none",
        value: null,
        text: "“whereas it is inherently less scalable than an IOMMU-less (unprotected) system, our approach incurs only 0%–25% performance degradation in comparison”",
        verified: true,
      },
    ],
    ranking: [
      { strategies: ["strict"], relation: "<" },
      { strategies: ["copy"], relation: "<" },
      { strategies: ["none"], relation: "<=" },
    ],
    targets: [
      {
        label: "copy, × strict",
        published: { low: 5, high: 5 },
        text: "up to 5×",
        measure: { strategy: "copy" },
        tolerance: { factor: 1.5 },
        caveat:
          "“Up to”: the best of the paper’s benchmarks, several of them on many cores; the simulation runs one workload on one CPU. Contention between cores for the IOVA allocator’s lock and the invalidation queue, which makes strict dearer as cores are added, is not modelled.",
      },
      {
        label: "copy’s shortfall against no IOMMU, %",
        published: { low: 0, high: 25 },
        text: "0%–25%",
        measure: { strategy: "copy", shortfallAgainst: "none" },
        tolerance: { points: 10 },
        caveat:
          "The paper calls copying “inherently less scalable” than no IOMMU; with one CPU the simulation shows only the per-packet copy, not the memory bandwidth the copies take from other cores.",
      },
    ],
    workload: { hypervisor: "none", lineRateGbps: 40, packetSize: 1500, direction: "rx" },
    strategies: [
      { name: "strict", mapping: "strict" },
      { name: "copy", mapping: "copy" },
      { name: "none", mapping: "none" },
    ],
    notes: [
      ...COMMON_NOTES,
      "A 40 Gb/s NIC as in the paper. The shadow-buffer copy costs costs.mappingLookup (finding the ring slot’s shadow) plus costs.memcpyPerByte per byte: shadows are never unmapped, so there is no swiotlb slot search.",
      "“Up to 5×” is the paper’s best case; the simulation runs one workload, so its ratio is one point, not a maximum.",
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
        if (!ok)
          mismatches.push(
            `${winner} should ${group.relation === "<" ? "beat" : "at least match"} ${loser} (simulated ${round(w)} vs ${round(l)} ${study.metric.unit})`,
          );
      }
    }
  }
  return mismatches;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Runs one study's strategies on its workload with the default constants. */
export function simulateStudy(
  study: Pick<LiteratureStudy, "id" | "workload" | "strategies" | "ranking" | "metric" | "targets">,
  packets = LITERATURE_PACKETS,
): SimulatedStudy {
  if (typeof packets !== "number" || !Number.isSafeInteger(packets) || packets < 1 || packets > 100_000) {
    throw new SimError(
      "INVALID_ARGUMENT",
      `simulateStudy: packets must be a whole number from 1 to 100000, got ${describeValue(packets)}`,
      "packets",
    );
  }
  const results = compareStrategies(packetStream({ ...study.workload, packets }), study.strategies);
  const metric = (r: StrategyResult): number => {
    if (study.id === "viommu") return (r.metrics.fractionOfLineRate ?? 0) * 100;
    if (study.id === "willmann") return r.perOp;
    const strict = results.find((x) => x.name === "strict");
    return strict?.metrics.throughputGbps ? (r.metrics.throughputGbps ?? 0) / strict.metrics.throughputGbps : 0;
  };
  const figures = results.map((r) => ({
    strategy: r.name,
    value: metric(r),
    cyclesPerPacket: r.perOp,
    throughputGbps: r.metrics.throughputGbps ?? 0,
    fractionOfLineRate: r.metrics.fractionOfLineRate ?? 0,
    ok: r.ok,
  }));
  const values = Object.fromEntries(figures.map((f) => [f.strategy, f.value]));
  const mismatches = checkRanking(study, values);
  for (const f of figures) if (!f.ok) mismatches.push(`${f.strategy} did not run cleanly`);
  const checks = checkTargets(study.targets, values);
  return {
    figures,
    rankingMatches: mismatches.length === 0,
    mismatches,
    checks,
    withinTolerance: checks.every((c) => c.within),
    results,
    packets,
  };
}

/** Checks each published target against simulated `values` (by strategy, in the study's metric). */
export function checkTargets(targets: readonly PublishedTarget[], values: Readonly<Record<string, number>>): TargetCheck[] {
  return targets.map((target) => {
    const { strategy, shortfallAgainst } = target.measure;
    const value = values[strategy];
    const reference = shortfallAgainst === undefined ? undefined : values[shortfallAgainst];
    if (value === undefined || (shortfallAgainst !== undefined && !reference)) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `target ${describeValue(target.label)}: no simulated figure for ${value === undefined ? strategy : shortfallAgainst}`,
        "targets",
      );
    }
    const simulated = reference === undefined ? value : 100 * (1 - value / reference);
    const { low, high } = target.published;
    const allowed =
      "points" in target.tolerance
        ? { low: low - target.tolerance.points, high: high + target.tolerance.points }
        : { low: low / target.tolerance.factor, high: high * target.tolerance.factor };
    const tolerance = "points" in target.tolerance ? `±${target.tolerance.points} points` : `within ×${target.tolerance.factor}`;
    const check: TargetCheck = {
      label: target.label,
      text: target.text,
      simulated,
      allowed,
      tolerance,
      within: simulated >= allowed.low && simulated <= allowed.high,
    };
    if (target.caveat !== undefined) check.caveat = target.caveat;
    return check;
  });
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
 * computed on first access with {@link LITERATURE_PACKETS} packets per strategy), with each
 * published number checked against its tolerance (`study.simulated.checks`).
 * @example
 * for (const s of LITERATURE) console.log(s.id, s.simulated.rankingMatches, s.simulated.withinTolerance, s.simulated.checks);
 */
export const LITERATURE: readonly LiteratureStudy[] = Object.freeze(DEFINITIONS.map(withLazySimulation));

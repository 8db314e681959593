/**
 * Scenario helpers: whole I/O paths of the 2006 thread run on the simulator (blkfront/blkback to
 * a disk, netfront/netback to a NIC, a packet stream through a NIC), the cost comparison of
 * strategies, and the three published comparisons the cost model is checked against (order and
 * numbers within a tolerance).
 */
export { blkbackRoundTrip, blkbackScenario, BLKIF_MAX_SEGMENTS_PER_REQUEST, MAX_ROUND_TRIP_SECTORS } from "./blkback.js";
export type { BlkbackOptions, BlkbackResult, BlkbackStrategy } from "./blkback.js";
export { netbackPacket } from "./netback.js";
export type { NetbackOptions, NetbackResult, PacketHandling, SkbAllocation } from "./netback.js";
export { packetStream, PACKET_MAPPINGS } from "./packet-stream.js";
export type { PacketMapping, PacketStrategy, PacketStreamOptions } from "./packet-stream.js";
export { compareStrategies, summarise, MAX_STRATEGIES } from "./compare.js";
export type { Scenario, ScenarioOutcome, StrategyResult, StrategySpec } from "./compare.js";
export { LITERATURE, LITERATURE_PACKETS, simulateStudy, checkRanking, checkTargets } from "./literature.js";
export type {
  LiteratureStudy,
  PublishedFigure,
  PublishedTarget,
  RankingGroup,
  SimulatedFigure,
  SimulatedStudy,
  TargetCheck,
} from "./literature.js";
export { Disk, MAX_DISK_SECTORS } from "./disk.js";
export type { ScenarioError } from "./common.js";

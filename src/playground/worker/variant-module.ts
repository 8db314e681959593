// The runner's side of A/B variants: a `dma-lab` module for the reader's code whose machines,
// devices and DMA-APIs get the variant's overrides. Nothing shared is modified: the simulator's
// classes and prototypes stay as they are; the overrides live in wrapper functions, class proxies
// and own (non-enumerable) methods of the machines and domains the reader's code creates.
import type { BackendName, DeviceConfig, DmaApiOptions, Domain, Machine, MachineConfig } from "../../sim/index.js";
import { isEmptyVariant, mergeDeviceConfig, mergeMachineConfig, type Variant, type VariantApplied } from "../common/variant.js";

type SimModule = typeof import("../../sim/index.js");

/** Sets an own method that `console.log` (Object.entries) and snapshots do not see. */
function defineHidden<T extends object>(target: T, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, configurable: true, writable: true, enumerable: false });
}

/**
 * `sim` as the reader's code sees it under `variant`: `createMachine` and `new Machine` merge
 * `variant.machine` over the code's config; on those machines `attachDevice` merges
 * `variant.device`, and every domain's `dmaApi` (and `new DmaApi`) uses `variant.backend`.
 * Machines a scenario helper builds from a config of its own are not the code's, and keep their
 * settings (`applied` counts what was changed, so the page can say so).
 */
export function withVariant(sim: SimModule, variant: Variant): { module: SimModule; applied: VariantApplied } {
  const applied: VariantApplied = { machines: 0, devices: 0, dmaApis: 0 };
  if (isEmptyVariant(variant)) return { module: sim, applied };
  const { machine, backend, device } = variant;

  const configFor = (config: MachineConfig): MachineConfig => {
    if (!machine) return config;
    applied.machines++;
    return mergeMachineConfig(config, machine);
  };
  const backendFor = (name: BackendName): BackendName => {
    if (!backend) return name;
    applied.dmaApis++;
    return backend;
  };

  const patchDomain = (domain: Domain): Domain => {
    const dmaApi = domain.dmaApi;
    defineHidden(domain, "dmaApi", (dev: Parameters<Domain["dmaApi"]>[0], name: BackendName, options?: DmaApiOptions) =>
      dmaApi.call(domain, dev, backendFor(name), options),
    );
    return domain;
  };

  const patchMachine = (m: Machine): Machine => {
    if (device) {
      const attachDevice = m.attachDevice;
      defineHidden(m, "attachDevice", (config: DeviceConfig) => {
        applied.devices++;
        return attachDevice.call(m, mergeDeviceConfig(config, device));
      });
    }
    if (backend) {
      const createDomain = m.createDomain;
      defineHidden(m, "createDomain", (...args: Parameters<Machine["createDomain"]>) => patchDomain(createDomain.apply(m, args)));
    }
    return m;
  };

  // Proxies, not subclasses: `instanceof Machine` stays true for every machine, including those
  // scenario helpers build with the real class.
  const MachineProxy = new Proxy(sim.Machine, {
    construct(target, args: unknown[], newTarget) {
      return patchMachine(Reflect.construct(target, [configFor(args[0] as MachineConfig), ...args.slice(1)], newTarget) as Machine);
    },
  });
  const DmaApiProxy = new Proxy(sim.DmaApi, {
    construct(target, args: unknown[], newTarget) {
      const [domain, dev, name, ...rest] = args;
      return Reflect.construct(target, [domain, dev, backendFor(name as BackendName), ...rest], newTarget) as object;
    },
  });

  const module: SimModule = {
    ...sim,
    createMachine: (config: MachineConfig) => patchMachine(sim.createMachine(configFor(config))),
    Machine: MachineProxy,
    DmaApi: DmaApiProxy,
  };
  return { module, applied };
}

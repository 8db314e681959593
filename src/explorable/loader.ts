// The only script an explorable figure puts on the page: on the first interaction with a figure
// (focus, pointer or key) it loads the simulator and renderer (runtime.ts, a separate chunk) and
// hands the figure over. A click on a step button made before the chunk arrived is replayed.
type Runtime = typeof import("./runtime");

let runtime: Promise<Runtime> | undefined;

function wake(root: HTMLElement, pending?: string): void {
  if (root.dataset.explorableReady) return;
  if (root.dataset.explorableLoading) {
    if (pending) root.dataset.explorablePending = pending;
    return;
  }
  root.dataset.explorableLoading = "1";
  if (pending) root.dataset.explorablePending = pending;
  root.setAttribute("aria-busy", "true");
  runtime ??= import("./runtime.js");
  runtime
    .then((r) => r.mount(root))
    .catch((err: unknown) => {
      root.removeAttribute("aria-busy");
      const note = root.querySelector(".dma-explorable-description");
      if (note)
        note.textContent = `The interactive figure could not load (${err instanceof Error ? err.message : String(err)}); the picture shows the default settings.`;
    });
}

for (const root of document.querySelectorAll<HTMLElement>("[data-explorable]")) {
  const start = (e: Event) => {
    const step = (e.target as HTMLElement | null)?.closest?.<HTMLElement>("[data-step]")?.dataset.step;
    wake(root, e.type === "click" ? step : undefined);
  };
  for (const type of ["focusin", "pointerdown", "click", "input", "change"]) root.addEventListener(type, start, { once: type !== "click" });
}

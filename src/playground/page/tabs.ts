// The results tabs (Console, Trace, Stats, Picture) as an ARIA tablist: one tab in the Tab order,
// arrow keys / Home / End move between tabs, the selected tab's panel is the only one shown.

export interface Tabs {
  select(name: string): void;
  readonly selected: string;
  /** Called after a tab is shown (the picture draws lazily). */
  onSelect(listener: (name: string) => void): void;
}

export function setUpTabs(root: HTMLElement, idPrefix: string): Tabs {
  const tabs = [...root.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
  const panelOf = (tab: HTMLButtonElement) => root.querySelector<HTMLElement>(`[data-panel="${tab.dataset.tab}"]`)!;
  for (const tab of tabs) {
    const panel = panelOf(tab);
    tab.id = `${idPrefix}-tab-${tab.dataset.tab}`;
    panel.id = `${idPrefix}-panel-${tab.dataset.tab}`;
    tab.setAttribute("aria-controls", panel.id);
    panel.setAttribute("aria-labelledby", tab.id);
  }
  const listeners: ((name: string) => void)[] = [];
  let selected = tabs.find((t) => t.getAttribute("aria-selected") === "true")?.dataset.tab ?? "console";

  const select = (name: string, focus = false): void => {
    for (const tab of tabs) {
      const on = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      panelOf(tab).hidden = !on;
      if (on && focus) tab.focus();
    }
    selected = name;
    for (const listener of listeners) listener(name);
  };

  for (const [i, tab] of tabs.entries()) {
    tab.addEventListener("click", () => select(tab.dataset.tab!));
    tab.addEventListener("keydown", (e) => {
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length]!.dataset.tab!, true);
    });
  }
  return {
    select: (name) => select(name),
    get selected() {
      return selected;
    },
    onSelect: (listener) => listeners.push(listener),
  };
}

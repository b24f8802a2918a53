"""axe-core (vendored from the npm registry under tests/web/vendor/axe-core, with its licence) and
a focus-ring contrast check, run in the browser tests' pages."""
from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2 A/AA violations on the page, one line each (rule, impact, first element)."""
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # through the driver: the page's CSP does not apply
    found = page.evaluate("""async () => {
        const result = await window.axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}});
        return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.length} × ${v.nodes[0].target.join(' ')}`);
    }""")
    return list(found)


FOCUS_CONTRAST_JS = """
(limit) => {
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (el) => {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const el = document.activeElement;
  const style = getComputedStyle(el);
  if (style.outlineStyle === 'none' || parseFloat(style.outlineWidth) < 2) return {el: el.outerHTML.slice(0, 80), ratio: 0};
  const a = lum(rgb(style.outlineColor)), b = lum(background(el));
  return {el: el.outerHTML.slice(0, 80), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
}
"""


def weak_focus_rings(page, tabs: int = 25, minimum: float = 3.0) -> list[str]:
    """Tab through the first ``tabs`` stops; each focus ring must contrast ``minimum``:1 with what is behind it."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    weak = []
    for _ in range(tabs):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement === document.body"):
            break
        seen = page.evaluate(FOCUS_CONTRAST_JS, minimum)
        if seen["ratio"] < minimum:
            weak.append(f"{seen['ratio']:.2f}:1 {seen['el']}")
    return weak

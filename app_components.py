"""Two small browser components the built-in widgets cannot do: citation markers that preview, a passage that scrolls.

- `answer_view`: the answer's lines with [n] markers; hovering, focusing or tapping a marker
  previews the quoted sentence, locator, document and page; clicking it (or "Open source" in
  the preview) opens the source panel; a "Copy answer" button puts the answer and its sources
  on the clipboard.
- `passage_view`: a unit's text with the cited sentences highlighted, scrolled so that the
  first highlight is in view.

Safety: the HTML, CSS and JavaScript below are constants. Document and user text arrives only
as data (JSON from `assistant.present.preview`) and is written with `textContent` or
`createTextNode`, never parsed as HTML: tests/app/test_app.py checks that no HTML-parsing call
appears in this file.
"""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

ANSWER_CSS = """
:host { display: block; }
.answer { position: relative; font-family: var(--st-font, "Source Sans Pro", sans-serif);
  color: var(--st-text-color, #31333f); line-height: 1.6; font-size: 1rem; }
.heading { font-weight: 700; margin: 0.6rem 0 0.2rem; }
.heading.earlier { color: var(--st-gray-color, #6b6f7b); font-weight: 600; margin-top: 1rem; }
.item { position: relative; padding-left: 1.1rem; margin: 0.15rem 0; }
.item::before { content: "•"; position: absolute; left: 0.25rem; }
.item.status { font-weight: 700; background: rgba(28, 131, 225, 0.10); border-left: 4px solid #1c83e1;
  padding: 0.35rem 0.6rem 0.35rem 1.3rem; border-radius: 0.3rem; margin: 0.35rem 0; }
.item.status::before { left: 0.45rem; }
.text { margin: 0.2rem 0; }
.marker { font: inherit; font-size: 0.78rem; font-weight: 700; line-height: 1; color: #0b5cad;
  background: rgba(28, 131, 225, 0.14); border: 1px solid rgba(28, 131, 225, 0.45); border-radius: 0.5rem;
  padding: 0.12rem 0.42rem; margin: 0 0.1rem; cursor: pointer; vertical-align: 0.08rem; }
.marker:hover, .marker:focus-visible, .marker[aria-expanded="true"] { background: #1c83e1; color: #fff; outline: none; }
.tip { position: fixed; z-index: 1000; max-width: min(30rem, calc(100vw - 1.5rem)); box-sizing: border-box;
  background: var(--st-background-color, #fff); color: var(--st-text-color, #31333f);
  border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; box-shadow: 0 6px 24px rgba(0, 0, 0, 0.18);
  padding: 0.6rem 0.75rem; font-size: 0.9rem; line-height: 1.45; }
.tip[hidden] { display: none; }
.tip-where { font-weight: 700; margin-bottom: 0.3rem; }
.tip-quote { margin: 0.25rem 0; padding-left: 0.6rem; border-left: 3px solid #ffa421; background: rgba(255, 164, 33, 0.12); }
.tip-doc { color: var(--st-gray-color, #6b6f7b); font-size: 0.82rem; margin-top: 0.3rem; }
.tip-open, .copy { font: inherit; font-size: 0.85rem; margin-top: 0.45rem; padding: 0.25rem 0.7rem; cursor: pointer;
  border-radius: 0.4rem; border: 1px solid rgba(49, 51, 63, 0.25); background: var(--st-secondary-background-color, #f0f2f6);
  color: inherit; }
.tip-open:hover, .copy:hover { border-color: #1c83e1; color: #1c83e1; }
.tools { margin-top: 0.4rem; }
"""

ANSWER_JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  };
  const root = el("div", "answer");
  root.setAttribute("data-testid", "answer-view");
  const citations = data.citations || {};
  const tip = el("div", "tip");
  tip.hidden = true;
  tip.setAttribute("role", "tooltip");
  tip.setAttribute("data-testid", "citation-preview");
  let openFor = null, hideTimer = null, lastPointer = "mouse", wasOpen = false;

  const open = (n) => { hide(); setTriggerValue("open", { n: Number(n) }); };
  const hide = () => {
    tip.hidden = true;
    if (openFor) openFor.setAttribute("aria-expanded", "false");
    openFor = null;
  };
  const show = (marker) => {
    clearTimeout(hideTimer);
    const c = citations[marker.dataset.n];
    if (!c) return;
    tip.replaceChildren();
    tip.appendChild(el("div", "tip-where", `[${c.n}] ${c.locator} · ${c.pages}`));
    for (const sentence of c.quote || []) tip.appendChild(el("div", "tip-quote", sentence));
    tip.appendChild(el("div", "tip-doc", `${c.document} — ${c.title}`));
    const button = el("button", "tip-open", "Open source");
    button.type = "button";
    button.addEventListener("click", () => open(c.n));
    tip.appendChild(button);
    tip.hidden = false;
    if (openFor) openFor.setAttribute("aria-expanded", "false");
    openFor = marker;
    marker.setAttribute("aria-expanded", "true");
    const box = marker.getBoundingClientRect();
    const width = Math.min(tip.offsetWidth, window.innerWidth - 12);
    tip.style.left = `${Math.max(6, Math.min(box.left, window.innerWidth - width - 6))}px`;
    const below = box.bottom + 6;
    const room = window.innerHeight - 120;  // the chat input sits over the bottom of the page
    tip.style.top = below + tip.offsetHeight < room || box.top < tip.offsetHeight + 12
      ? `${below}px` : `${box.top - tip.offsetHeight - 6}px`;
  };
  const later = () => { clearTimeout(hideTimer); hideTimer = setTimeout(hide, 250); };

  for (const line of data.lines || []) {
    if (line.kind === "heading") {
      root.appendChild(el("div", line.earlier ? "heading earlier" : "heading", line.text));
      continue;
    }
    const row = el("div", line.kind + (line.status ? " status" : ""));
    for (const piece of line.pieces || []) {
      if (piece.n === undefined) { row.appendChild(document.createTextNode(piece.text)); continue; }
      const marker = el("button", "marker", piece.n);
      marker.type = "button";
      marker.dataset.n = String(piece.n);
      marker.setAttribute("aria-label", `Source ${piece.n}: preview, or open it beside the conversation`);
      marker.setAttribute("aria-expanded", "false");
      marker.addEventListener("pointerdown", (event) => {
        lastPointer = event.pointerType || "mouse";
        wasOpen = openFor === marker;  // before the focus that the tap brings shows the preview
      });
      marker.addEventListener("pointerenter", (event) => { if (event.pointerType === "mouse") show(marker); });
      marker.addEventListener("pointerleave", (event) => { if (event.pointerType === "mouse") later(); });
      marker.addEventListener("focus", () => show(marker));
      marker.addEventListener("click", (event) => {
        // A tap first previews; a second tap, a click with a mouse, or Enter opens the source.
        const touch = event.detail > 0 && lastPointer !== "mouse";
        if (touch && !wasOpen) { show(marker); wasOpen = true; return; }
        open(marker.dataset.n);
      });
      row.appendChild(marker);
    }
    root.appendChild(row);
  }
  tip.addEventListener("pointerenter", () => clearTimeout(hideTimer));
  tip.addEventListener("pointerleave", later);
  const onKey = (event) => { if (event.key === "Escape") hide(); };
  const onScroll = () => hide();
  const onOutside = (event) => { if (!event.composedPath().includes(root)) hide(); };
  document.addEventListener("keydown", onKey);
  document.addEventListener("pointerdown", onOutside);
  window.addEventListener("scroll", onScroll, true);
  if (data.copy) {
    const tools = el("div", "tools");
    const copy = el("button", "copy", "Copy answer");
    copy.type = "button";
    copy.setAttribute("data-testid", "copy-answer");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(data.copy);
      } catch (error) {
        const area = document.createElement("textarea");
        area.value = data.copy;
        root.appendChild(area);
        area.select();
        document.execCommand("copy");
        area.remove();
      }
      copy.textContent = "Copied";
      setTimeout(() => { copy.textContent = "Copy answer"; }, 1500);
    });
    tools.appendChild(copy);
    root.appendChild(tools);
  }
  root.appendChild(tip);
  parentElement.appendChild(root);
  return () => {
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("pointerdown", onOutside);
    window.removeEventListener("scroll", onScroll, true);
    root.remove();
  };
}
"""

PASSAGE_CSS = """
:host { display: block; }
.passage { font-family: var(--st-font, "Source Sans Pro", sans-serif); color: var(--st-text-color, #31333f);
  line-height: 1.55; font-size: 0.95rem; overflow-y: auto; border: 1px solid rgba(49, 51, 63, 0.2);
  border-radius: 0.5rem; padding: 0.6rem 0.8rem; box-sizing: border-box; }
.line { min-height: 1.2em; white-space: pre-wrap; overflow-wrap: anywhere; }
.label, .title { font-weight: 700; }
mark { background: rgba(255, 164, 33, 0.35); color: inherit; font-weight: 700; border-radius: 0.2rem; padding: 0 0.1rem; }
"""

PASSAGE_JS = """
export default function (component) {
  const { data, parentElement } = component;
  const box = document.createElement("div");
  box.className = "passage";
  box.setAttribute("data-testid", "source-passage");
  box.style.maxHeight = `${Number(data.height) || 420}px`;
  let target = null;
  for (const pieces of data.lines || []) {
    const line = document.createElement("div");
    line.className = "line";
    for (const piece of pieces) {
      const node = document.createElement(piece.mark ? "mark" : "span");
      if (piece.label) node.className = "label";
      if (piece.title) node.className = "title";
      node.textContent = piece.text;
      if (piece.mark && piece.scroll) { node.setAttribute("data-first", "true"); target = node; }
      line.appendChild(node);
    }
    box.appendChild(line);
  }
  parentElement.appendChild(box);
  // Reveal the panel once per opening (the token changes with each opening), not on every redraw.
  const reveal = data.reveal && window.__assistantRevealed !== data.reveal;
  if (reveal) window.__assistantRevealed = data.reveal;
  requestAnimationFrame(() => {
    if (target) box.scrollTop = Math.max(0, target.offsetTop - box.offsetTop - box.clientHeight / 4);
    if (reveal) (target || box).scrollIntoView({ block: "nearest", inline: "nearest" });
  });
  return () => box.remove();
}
"""

# Page layout only, no content: the source panel stays in view beside a long conversation (sticky in its column)
# on screens wide enough for two columns; on a phone the columns stack and the panel follows the chat.
LAYOUT_CSS = """
@media (min-width: 640px) {
  [data-testid="stLayoutWrapper"]:has(> .st-key-source-panel) {
    position: sticky; top: 0.75rem; align-self: flex-start; z-index: 2;
    max-height: calc(100vh - 8.5rem); overflow-y: auto;
  }
}
"""

_layout = st.components.v2.component("assistant_layout", css=LAYOUT_CSS, isolate_styles=False)
_answer = st.components.v2.component("assistant_answer", css=ANSWER_CSS, js=ANSWER_JS)
_passage = st.components.v2.component("assistant_passage", css=PASSAGE_CSS, js=PASSAGE_JS)


def layout_styles() -> None:
    """Mount the layout rules once per page (CSS only: no HTML, no script, no text)."""
    _layout(key="assistant-layout", height=0)


def answer_view(data: dict[str, Any], key: str, on_open: Callable[[], None]) -> Any:
    """The answer with its citation markers; `on_open` runs when a marker asks for its source (value in session state)."""
    return _answer(data=data, key=key, on_open_change=on_open)


def passage_view(data: dict[str, Any], key: str, height: int = 420, reveal: str = "") -> Any:
    """A passage scrolled to its first highlight; `reveal` (a token per opening) also brings the panel into view."""
    return _passage(data={**data, "height": height, "reveal": reveal}, key=key)


def opened(key: str) -> int | None:
    """The citation number an answer view's marker asked to open, if any."""
    value = st.session_state.get(key)
    try:
        return int(value["open"]["n"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None

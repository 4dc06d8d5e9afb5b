"""A workflow drawn as SVG on the server: no graphviz, no script, no CDN.

Stages stand in a column in the order the definition lists them. Steps to the next stage are
straight arrows between the boxes, labelled; longer steps forward curve on the left, steps back
curve on the right. Every arrow carries a ``<title>`` naming its action, and pages show the same
actions as a table, so nothing is said by the drawing alone.
"""

from __future__ import annotations

from html import escape

from policyflow.core.workflow import WorkflowDefinition

BOX_WIDTH, BOX_HEIGHT, GAP = 260, 46, 46
LEFT = 150  # room for the curves of forward jumps
CURVE_STEP = 18


def workflow_svg(definition: WorkflowDefinition, current: str | None = None) -> str:
    order = {stage.name: index for index, stage in enumerate(definition.stages)}
    width = LEFT + BOX_WIDTH + 170
    height = len(definition.stages) * (BOX_HEIGHT + GAP) + GAP

    def top(index: int) -> int:
        return GAP // 2 + index * (BOX_HEIGHT + GAP)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="wf-title" class="workflow-diagram">',
        f'<title id="wf-title">{escape(definition.title)}: '
        f'{escape(", then ".join(stage.label for stage in definition.stages))}'
        f'{escape(f"; current stage {definition.stage(current).label}") if current in order else ""}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#3a4148"/></marker></defs>',
    ]
    left_lane = right_lane = 0
    seen: set[tuple[str, str]] = set()
    for action in definition.actions:
        for source in action.sources:
            if (source, action.dest) in seen:
                continue
            seen.add((source, action.dest))
            start, end = order[source], order[action.dest]
            label = escape(action.label)
            if end == start + 1:
                x = LEFT + BOX_WIDTH // 2
                y1, y2 = top(start) + BOX_HEIGHT, top(end)
                parts.append(f'<g><title>{label}</title><line x1="{x}" y1="{y1}" x2="{x}" y2="{y2 - 2}" '
                             f'stroke="#3a4148" stroke-width="1.6" marker-end="url(#arrow)"/>'
                             f'<text x="{x + 8}" y="{(y1 + y2) // 2 + 4}" class="wf-edge" font-size="12" '
                             f'fill="#33393f">{label}</text></g>')
                continue
            forward = end > start
            if forward:
                left_lane += 1
                x_edge, bend = LEFT, LEFT - CURVE_STEP * left_lane
            else:
                right_lane += 1
                x_edge, bend = LEFT + BOX_WIDTH, LEFT + BOX_WIDTH + CURVE_STEP * right_lane
            y1 = top(start) + BOX_HEIGHT // 2 + (6 if forward else -6)
            y2 = top(end) + BOX_HEIGHT // 2 + (-6 if forward else 6)
            parts.append(f'<g><title>{label}</title><path d="M{x_edge},{y1} C{bend},{y1} {bend},{y2} {x_edge},{y2}" '
                         f'fill="none" stroke="{"#3a4148" if forward else "#8f1d23"}" stroke-width="1.4" '
                         f'stroke-dasharray="{"" if forward else "5 3"}" marker-end="url(#arrow)"/></g>')
    for stage in definition.stages:
        y = top(order[stage.name])
        is_current = stage.name == current
        css = "wf-stage wf-current" if is_current else ("wf-stage wf-final" if stage.final else "wf-stage")
        bold = ' font-weight="700"' if is_current else ""
        fill, ink = ("#143a66", "#ffffff") if is_current else (("#eceef0", "#1b1f24") if stage.final else ("#f5f6f4", "#1b1f24"))
        parts.append(
            f'<g class="{css}"><rect x="{LEFT}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="10" '
            f'fill="{fill}" stroke="#3a4148" stroke-width="1.4"/>'
            f'<text x="{LEFT + BOX_WIDTH // 2}" y="{y + BOX_HEIGHT // 2 + 5}" text-anchor="middle" fill="{ink}" '
            f'font-size="15"{bold}>'
            f'{escape(stage.label)}{" (current)" if is_current else ""}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)

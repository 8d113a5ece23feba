"""Static fallbacks for ipywidgets outputs on the course site.

A widget output in an executed notebook is only a pointer (``application/vnd.jupyter.widget-view+json``)
to a model in the notebook's widget state; showing it needs the widget JavaScript, which the course
site does not load (it must work offline). :func:`fallback_html` turns such an output into plain HTML
that shows the widget in its *default state*: its controls drawn as disabled HTML controls with their
default values, and what its output areas hold after the cell ran. ``ipywidgets.interact`` calls its
function once with the default values, so an interactive figure's fallback is that first figure.

Nobody has to remember to make a fallback: the build gives every widget output one. A fallback that
shows nothing gets the class ``widget-fallback-missing`` (for example an ``interact`` whose output
area stayed empty), and ``tools/test_site.py`` fails on it. An error inside a widget's output area
stops the build, like an error anywhere else.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

NOTE = ("Interactive in JupyterLab or Colab (run the notebook); "
        "on this page you see its default state.")


class WidgetOutputError(RuntimeError):
    """A widget's output area holds an error."""


def _ref(value) -> str | None:
    return value[len("IPY_MODEL_"):] if isinstance(value, str) and value.startswith("IPY_MODEL_") else None


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class _Renderer:
    def __init__(self, state: dict, output_html: Callable[[dict], str]):
        self.state = state
        self.output_html = output_html
        self.images = 0
        self.controls = 0
        self.inputs = 0  # controls a learner would use (a progress bar or a label is not one)
        self.empty_interact = False
        self.unknown: list[str] = []

    def render(self, model_id: str | None) -> str:
        model = self.state.get(model_id or "")
        if model is None:
            return ""
        name = model.get("model_name", "")
        s = model.get("state", {})
        desc = html.escape(str(s.get("description", "")))
        label = f'<span class="wf-label">{desc}</span>' if desc else ""
        if name in ("VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel", "AccordionModel", "TabModel",
                    "StackModel"):
            children = "".join(self.render(_ref(c)) for c in s.get("children", []))
            kind = "wf-hbox" if name == "HBoxModel" else "wf-vbox"
            html_out = f'<div class="{kind}">{children}</div>'
            if "widget-interact" in s.get("_dom_classes", []) and not self._has_output(s):
                self.empty_interact = True
            return html_out
        if name == "OutputModel":
            return self._output(s)
        if name.endswith("SliderModel") or name in ("IntProgressModel", "FloatProgressModel"):
            self.controls += 1
            self.inputs += not name.endswith("ProgressModel")
            value = s.get("value", 0)
            if isinstance(value, list):  # range sliders
                shown, position = " – ".join(_fmt(v) for v in value), value[0]
            else:
                shown, position = _fmt(value), value
            if name == "FloatLogSliderModel":
                position = math.log(value, s.get("base", 10)) if value and value > 0 else s.get("min", 0)
            rng = (f'min="{s.get("min", 0)}" max="{s.get("max", 100)}" step="{s.get("step", 1)}" '
                   f'value="{position}"')
            return (f'<div class="wf-control">{label}<input type="range" disabled {rng}>'
                    f'<span class="wf-value">{html.escape(shown)}</span></div>')
        if name in ("DropdownModel", "SelectModel", "RadioButtonsModel", "ToggleButtonsModel",
                    "SelectionSliderModel"):
            self.controls += 1
            self.inputs += 1
            labels = s.get("_options_labels", [])
            index = s.get("index")
            chosen = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else ""
            return (f'<div class="wf-control">{label}<select disabled><option selected>'
                    f'{html.escape(str(chosen))}</option></select></div>')
        if name in ("ButtonModel", "FileUploadModel", "ToggleButtonModel"):
            self.controls += 1
            self.inputs += 1
            text = desc or ("Upload" if name == "FileUploadModel" else "button")
            return f'<div class="wf-control"><button type="button" disabled>{text}</button></div>'
        if name in ("CheckboxModel",):
            self.controls += 1
            self.inputs += 1
            checked = " checked" if s.get("value") else ""
            return f'<div class="wf-control">{label}<input type="checkbox" disabled{checked}></div>'
        if name in ("TextModel", "TextareaModel", "IntTextModel", "FloatTextModel", "BoundedIntTextModel",
                    "BoundedFloatTextModel", "PasswordModel"):
            self.controls += 1
            self.inputs += 1
            value = html.escape(_fmt(s.get("value", "")), quote=True)
            return f'<div class="wf-control">{label}<input type="text" disabled value="{value}"></div>'
        if name == "LabelModel":
            self.controls += 1
            return f'<div class="wf-control wf-text">{html.escape(str(s.get("value", "")))}</div>'
        if name in ("HTMLModel", "HTMLMathModel"):
            self.controls += 1
            return f'<div class="wf-control wf-text">{s.get("value", "")}</div>'
        if name in ("ImageModel",):
            self.images += 1
            return '<div class="wf-control">[image]</div>'
        if name.endswith(("LayoutModel", "StyleModel")):
            return ""
        self.unknown.append(name)
        return f'<div class="wf-control wf-unknown">[{html.escape(name)}]</div>'

    def _has_output(self, box_state: dict) -> bool:
        for child in box_state.get("children", []):
            model = self.state.get(_ref(child) or "", {})
            if model.get("model_name") == "OutputModel" and model.get("state", {}).get("outputs"):
                return True
        return False

    def _output(self, s: dict) -> str:
        outputs = s.get("outputs", [])
        parts = []
        for out in outputs:
            if out.get("output_type") == "error":
                raise WidgetOutputError(
                    f"{out.get('ename')}: {out.get('evalue')} (inside a widget's output area)")
            data = out.get("data", {})
            if "image/png" in data:
                self.images += 1
            parts.append(self.output_html(out))
        if not parts:
            return ('<div class="wf-output wf-output-empty">The output of this cell appears here '
                    "when you use the controls in JupyterLab or Colab.</div>")
        return f'<div class="wf-output">{"".join(parts)}</div>'


def output_html(out: dict) -> str:
    """HTML for one output captured by an Output widget (images inline, text as preformatted)."""
    if out.get("output_type") == "stream":
        return f'<pre class="wf-stream">{html.escape(out.get("text", ""))}</pre>'
    data = out.get("data", {})
    if "image/png" in data:
        png = data["image/png"].replace("\n", "")
        alt = "the interactive figure in its default state"
        return f'<img class="wf-image" alt="{alt}" src="data:image/png;base64,{png}">'
    if "image/svg+xml" in data:
        return f'<div class="wf-svg">{data["image/svg+xml"]}</div>'
    if "text/html" in data:
        return f'<div class="wf-html">{data["text/html"]}</div>'
    if "text/plain" in data:
        return f'<pre class="wf-stream">{html.escape(data["text/plain"])}</pre>'
    return ""


def fallback_html(model_id: str, state: dict, sanitize: Callable[[str], str] = str) -> tuple[str, list[str]]:
    """The static fallback of the widget ``model_id`` and a list of problems (empty when it is complete).

    Args:
        model_id: the ``model_id`` of a widget-view output.
        state: the notebook's widget state (``metadata.widgets[WIDGET_STATE]["state"]``).
        sanitize: applied to every text the fallback shows (the build removes its own paths).

    Raises:
        WidgetOutputError: if an output area of the widget holds an error.
    """
    renderer = _Renderer(state, lambda out: sanitize(output_html(out)))
    body = renderer.render(model_id)
    problems = []
    if model_id not in state:
        problems.append(f"widget {model_id} is not in the notebook's widget state")
    elif renderer.empty_interact:
        problems.append("an interact() whose output area is empty: its function drew nothing for the "
                        "default values")
    elif renderer.images + renderer.controls == 0:
        problems.append("a widget with neither controls nor a figure to show")
    if renderer.unknown:
        problems.append(f"widget models with no static drawing: {', '.join(sorted(set(renderer.unknown)))}")
    classes = "widget-fallback" + (" widget-fallback-missing" if problems else "")
    reason = html.escape("; ".join(problems), quote=True)
    note = f'<p class="wf-note">{NOTE}</p>' if renderer.inputs else ""  # e.g. a finished progress bar
    return (f'<div class="{classes}" data-problems="{reason}" data-images="{renderer.images}">'
            f'{note}{body}</div>'), problems

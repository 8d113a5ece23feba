"""Execute every notebook and render the course as a static site.

    python tools/build_site.py --mode smoke   # or --mode full
    python -m http.server -d build/site       # then open http://localhost:8000

Each notebook is executed top to bottom with nbclient (in the chosen mode, with its
wall time measured), rendered to HTML with nbconvert's lab template, and listed on an
index page with its one-line summary, run time, mode and "Open in Colab" link. The
build stops at the first notebook that raises an error, so a published site never
shows an error output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync_notebooks import BADGE_SVG, REPO, colab_url, course  # noqa: E402

BADGE_FILE = "colab-badge.svg"
# A small "Open in Colab" badge drawn for this site, so that pages show it offline too.
BADGE = """<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img"
 aria-label="Open in Colab">
<rect width="117" height="20" rx="3" fill="#555"/><rect x="0" width="30" height="20" rx="3" fill="#555"/>
<circle cx="11" cy="10" r="5" fill="none" stroke="#F9AB00" stroke-width="3"/>
<circle cx="19" cy="10" r="5" fill="none" stroke="#E8710A" stroke-width="3"/>
<text x="30" y="14" fill="#fff" font-family="Verdana,sans-serif" font-size="11">Open in Colab</text></svg>
"""


def execute(path: Path, mode: str, timeout: int) -> tuple[nbformat.NotebookNode, float]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - t0


def render(nb: nbformat.NotebookNode) -> str:
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return body.replace(BADGE_SVG, BADGE_FILE)


def saved_models(mode: str) -> list[str]:
    """The checkpoints that the notebooks of this mode will load instead of training."""
    import course_utils as cu

    folder = cu.get_settings().checkpoint_dir
    return sorted(p.stem for p in folder.glob("*.pt")) if folder.is_dir() else []


def index_page(c: dict, rows: list[dict], mode: str, loaded: list[str]) -> str:
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    trained = ("Every model was trained during this build, so the run times include training."
               if not loaded else
               "Models saved before this build were loaded instead of trained "
               f"({html.escape(', '.join(loaded))}), so the run times do not include their training.")
    items = "\n".join(
        f"""<tr><td>{r['number']}</td>
<td><a href="{r['html']}">{html.escape(r['title'])}</a><br><small>{html.escape(r['summary'])}</small></td>
<td>{r['seconds']:.0f} s</td><td>{mode}</td>
<td><a href="{r['colab']}"><img src="{BADGE_FILE}" alt="Open in Colab"></a></td></tr>"""
        for r in rows)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(c['title'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .5rem; text-align: left; vertical-align: top; }}
small {{ color: #555; }}
</style></head>
<body>
<h1>{html.escape(c['title'])}</h1>
<p>An open course in Jupyter notebooks. Every page below was executed top to bottom in
<b>{mode}</b> mode on {html.escape(platform.node() or 'this machine')} ({html.escape(platform.machine())},
Python {platform.python_version()}) on {when}; the run time is that execution's wall time.
{trained} Source: <a href="{c['url']}">{c['url']}</a>.</p>
<table><thead><tr><th>#</th><th>notebook</th><th>run time</th><th>mode</th><th></th></tr></thead>
<tbody>
{items}
</tbody></table>
</body></html>
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute the notebooks and render the course site.")
    parser.add_argument("--mode", choices=("smoke", "full"), default="smoke")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "site")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    parser.add_argument("--only", nargs="*", help="build only these notebook files (default: all)")
    args = parser.parse_args(argv)

    os.environ["COURSE_SMOKE"] = "1" if args.mode == "smoke" else "0"
    os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars mean nothing on a static page
    c = course()
    loaded = saved_models(args.mode)
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    (args.out / BADGE_FILE).write_text(BADGE)
    rows = []
    for entry in c["notebooks"]:
        if args.only and entry["file"] not in args.only:
            continue
        path = REPO / "notebooks" / entry["file"]
        print(f"executing {entry['file']} ({args.mode}) ...", flush=True)
        nb, seconds = execute(path, args.mode, args.timeout)
        page = entry["file"].replace(".ipynb", ".html")
        (args.out / page).write_text(render(nb))
        rows.append({"number": entry["file"][:2], "title": entry["title"], "summary": entry["summary"],
                     "html": page, "seconds": seconds, "colab": colab_url(c["repo"], entry["file"])})
        print(f"  {seconds:.0f} s -> {args.out / page}", flush=True)
    (args.out / "index.html").write_text(index_page(c, rows, args.mode, loaded))
    (args.out / "build.json").write_text(json.dumps({"mode": args.mode, "notebooks": rows}, indent=1))
    print(f"site written to {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

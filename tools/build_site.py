"""Execute every notebook and build the course site: a book that works offline.

    python tools/build_site.py --mode smoke             # or --mode full
    python -m http.server -d build/site                 # then open http://localhost:8000
    python tools/build_site.py --only 03_gan.ipynb      # some notebooks only (while writing one)
    python tools/build_site.py --reuse                  # render again without executing (if unchanged)

What it does:

1. **Execute** the notebooks listed in ``[tool.course] notebooks`` of pyproject.toml (so a new
   notebook is on the site as soon as it is in that list), one at a time with nbclient, in the
   chosen mode, timing each one. An error stops the build, so a published site never shows one.
   The kernels talk to nbclient over IPC sockets in a private temporary folder (no TCP ports).
2. **Prepare the outputs for a static, offline page.** Paths of the build machine (the repository,
   the data and checkpoint folders, the Python installation, the home and temporary folders) are
   written as the defaults a learner has (``data/``, ``checkpoints/``). Every ipywidgets output is
   replaced by a static fallback that shows the widget's default state (``tools/site_widgets.py``).
   Matplotlib's animation player asks a CDN for its icon font; the site serves that font itself.
   Any other output that would load something from another host stops the build.
3. **Render** the executed notebooks with Sphinx, MyST-NB and sphinx-book-theme (configuration in
   ``book/``), with an index page and the book's navigation, page titles and full-text search.

Why this tool (decided in 2026-12, see docs/teaching.md, "The course site"):

* **Sphinx + MyST-NB + sphinx-book-theme** is the stack of Jupyter Book 1, the most widely used
  tool for course books built from notebooks; it is plain Python from PyPI, renders executed
  notebooks (images, HTML, text, LaTeX) without executing them itself, and gives navigation, page
  titles from the notebooks' headings and a search index that works offline. Using Sphinx
  directly, rather than the ``jupyter-book<2`` wrapper, avoids pinning an old Sphinx.
* **Jupyter Book 2 / mystmd** (Node) was ruled out: ``myst build --html`` downloads its site theme
  from the MyST template service and GitHub at build time, which CI and an offline classroom
  cannot reach, and its pages render math and widgets in the browser.
* **Math** is rendered at build time by KaTeX (``sphinxcontrib-katex`` with ``katex_prerender``,
  run with node), so a page needs no JavaScript for its equations, only ``katex.min.css`` and the
  KaTeX fonts. MathJax would typeset in the browser on every page view.
* **Assets from npm** (the only registry with KaTeX's fonts and Font Awesome 4, which matplotlib's
  animation player uses): the exact versions below are fetched with ``npm pack``, checked against
  their sha512 integrity and cached in ``build/site-vendor/``; the site serves them from
  ``_static/vendor/``. The same KaTeX file renders the math and styles it.

The build needs node and npm (``make site`` checks), and writes ``build.json`` next to the site
(mode, run times, what was loaded instead of trained) for ``tools/test_site.py``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from site_widgets import WIDGET_STATE, WIDGET_VIEW, WidgetOutputError, fallback_html  # noqa: E402
from sync_notebooks import BADGE_SVG, REPO, colab_url, course  # noqa: E402

BOOK = REPO / "book"
BADGE_FILE = "colab-badge.svg"
# A small "Open in Colab" badge drawn for this site, so that pages show it offline too.
BADGE = """<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img"
 aria-label="Open in Colab">
<rect width="117" height="20" rx="3" fill="#555"/><rect x="0" width="30" height="20" rx="3" fill="#555"/>
<circle cx="11" cy="10" r="5" fill="none" stroke="#F9AB00" stroke-width="3"/>
<circle cx="19" cy="10" r="5" fill="none" stroke="#E8710A" stroke-width="3"/>
<text x="30" y="14" fill="#fff" font-family="Verdana,sans-serif" font-size="11">Open in Colab</text></svg>
"""

# npm packages the site serves itself: version, sha512 integrity (as the npm registry states it),
# and the files to copy (path in the package -> path under _static/vendor/).
VENDOR = {
    "katex": ("0.16.22",
              "sha512-XCHRdUw4lf3SKBaJe4EvgqIuWwkPSo9XoeO8GjQW94Bp7TWv9hNhzZjZ+OH9yf1UmLygb7DIT5GSFQiyt16zYg==",
              {"dist/katex.min.css": "katex/katex.min.css", "dist/katex.min.js": "katex/katex.min.js",
               "dist/fonts/": "katex/fonts/", "LICENSE": "katex/LICENSE"}),
    "font-awesome": ("4.7.0",
                     "sha512-U6kGnykA/6bFmg1M/oT9EkFeIYv7JlX3bozwQJWiiLz6L0w3F5vBVPxHlwyX/vtNq1ckcpRKOB9f2Qal/VtFpg==",
                     {"css/font-awesome.min.css": "font-awesome/css/font-awesome.min.css",
                      "fonts/": "font-awesome/fonts/", "README.md": "font-awesome/README.md"}),
}
# matplotlib's to_jshtml() player links Font Awesome 4 from a CDN; the site serves it (conf.py).
FONT_AWESOME_LINK = re.compile(r'<link[^>]*href="https?://[^"]*font-awesome[^"]*"[^>]*>\s*', re.I)
EXTERNAL_LOAD = re.compile(
    r'<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*"(https?:)?//[^"]*"', re.I)


# --- 1. execute -------------------------------------------------------------------------------

def execute(path: Path, timeout: int, ipc_dir: str) -> tuple[nbformat.NotebookNode, float]:
    from nbclient import NotebookClient
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"  # no TCP ports, and no "running over TCP" warning
    config.KernelManager.ip = os.path.join(ipc_dir, path.stem)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False, config=config,
                            store_widget_state=True, resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - t0


def source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def saved_models() -> list[str]:
    """The checkpoints that the notebooks of this mode will load instead of training."""
    import course_utils as cu

    folder = cu.get_settings().checkpoint_dir
    return sorted(p.stem for p in folder.glob("*.pt")) if folder.is_dir() else []


# --- 2. static and offline ----------------------------------------------------------------------

def machine_paths() -> list[tuple[str, str]]:
    """(path of this machine, what the site shows instead), most specific first."""
    import course_utils as cu

    settings = cu.get_settings()
    ckpt_root = settings.checkpoint_dir.parent if settings.checkpoint_dir.name in ("smoke", "full") \
        else settings.checkpoint_dir
    pairs = [(settings.data_dir, "data"), (ckpt_root, "checkpoints"), (REPO, "."),
             (Path(sys.prefix), "<python>"), (Path(sys.base_prefix), "<python>"),
             (Path(tempfile.gettempdir()), "<tmp>"), (Path.home(), "~")]
    out = []
    for path, shown in pairs:
        for p in {str(path), str(Path(path).resolve())}:
            if len(p) > 1:
                out.append((p, shown))
    return sorted(set(out), key=lambda pair: -len(pair[0]))


SITE_PACKAGES = re.compile(r"<python>/lib/python\d+\.\d+/(?:site|dist)-packages/")


def make_sanitizer(pairs: list[tuple[str, str]]):
    def sanitize(text: str) -> str:
        for path, shown in pairs:
            text = text.replace(path + "/", "" if shown == "." else shown + "/").replace(path, shown)
        return SITE_PACKAGES.sub("", text)  # a library's warning names its module: torch/nn/...
    return sanitize


def _map_text(value, fn):
    if isinstance(value, list):
        return [fn(v) for v in value]
    return fn(value) if isinstance(value, str) else value


def prepare(nb: nbformat.NotebookNode, name: str, sanitize) -> list[str]:
    """Make the executed notebook static and offline in place; returns the widget fallback problems."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(BADGE_SVG, BADGE_FILE)
            continue
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = sanitize(out["text"])
            elif out.get("output_type") == "error":
                out["traceback"] = [sanitize(t) for t in out["traceback"]]
            data = out.get("data")
            if data is not None and WIDGET_VIEW in data:
                model_id = data[WIDGET_VIEW]["model_id"]
                try:
                    html, found = fallback_html(model_id, state, sanitize)
                except WidgetOutputError as err:
                    raise SystemExit(f"{name}, cell {index}: {err}") from err
                problems += [f"{name}, cell {index}: {p}" for p in found]
                out = nbformat.v4.new_output("display_data", data={"text/html": html})
            elif data is not None:
                for mime in list(data):
                    if mime.startswith("text/") or mime == "image/svg+xml":
                        data[mime] = _map_text(data[mime], sanitize)
                if "text/html" in data:
                    page = data["text/html"]
                    page = FONT_AWESOME_LINK.sub("", "".join(page) if isinstance(page, list) else page)
                    external = EXTERNAL_LOAD.search(page)
                    if external:
                        raise SystemExit(f"{name}, cell {index}: an output loads from another host "
                                         f"({external.group(0)[:120]}...); the site must work offline")
                    data["text/html"] = page
            outputs.append(out)
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)  # nothing on the page may ask for the widget JavaScript
    return problems


# --- 3. render ----------------------------------------------------------------------------------

def npm_package(name: str, cache: Path) -> Path:
    """The npm tarball of VENDOR[name], fetched once with `npm pack` and checked against its sha512."""
    version, integrity, _ = VENDOR[name]
    tgz = cache / f"{name}-{version}.tgz"
    if not tgz.is_file():
        if not shutil.which("npm"):
            raise SystemExit("the site build needs npm (Debian: apt-get install nodejs npm)")
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", "--silent", f"{name}@{version}", "--pack-destination", str(cache)],
                       check=True, stdout=subprocess.DEVNULL)
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
    if digest != integrity:
        tgz.unlink()
        raise SystemExit(f"{tgz.name} does not have the sha512 recorded in tools/build_site.py; deleted, "
                         "run the build again")
    return tgz


def vendor_assets(static: Path, cache: Path) -> None:
    for name, (_, _, files) in VENDOR.items():
        with tarfile.open(npm_package(name, cache)) as tar:
            for member in tar.getmembers():
                inner = member.name.split("/", 1)[1] if "/" in member.name else member.name
                for src, dst in files.items():
                    if member.isfile() and (inner == src or (src.endswith("/") and inner.startswith(src))):
                        target = static / "vendor" / (dst + inner[len(src):] if src.endswith("/") else dst)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(tar.extractfile(member).read())


SMOKE_NOTE = ("Smoke mode trains on small subsets for a few steps: the pictures are rough, and the "
              "numbers are not the course's results (the text of each notebook discusses those).")


def sphinx(args: list[str]) -> None:
    """Run sphinx-build in a process group of its own, and end whatever it leaves behind (the KaTeX
    render server under node has been seen to outlive it, holding the build's output open)."""
    process = subprocess.Popen([sys.executable, "-m", "sphinx", *args], start_new_session=True)
    try:
        status = process.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    if status:
        raise SystemExit(f"sphinx-build failed (exit status {status})")


def index_page(c: dict, rows: list[dict], mode: str, loaded: list[str]) -> str:
    when = dt.date.today().isoformat()
    trained = ("Every model was trained during this build, so the run times include training."
               if not loaded else
               f"{len(loaded)} models saved by an earlier run were loaded instead of trained, so the run "
               "times do not include their training.")
    def run_time(r: dict) -> str:
        return "—" if r["seconds"] is None else f"{r['seconds']:.0f} s"

    table = "\n".join(
        f"| {r['number']} | [{r['title']}]({r['page']}) <br> {r['summary']} | {run_time(r)} | "
        f"[![Open in Colab]({BADGE_FILE})]({r['colab']}) |"
        for r in rows)
    toc = "\n".join(r["page"] for r in rows)
    return f"""# {c['title']}

An open course in Jupyter notebooks, from the convolution formula to measuring how good a
generative model really is. Every page below was executed top to bottom in **{mode} mode**
(Python {platform.python_version()}, {platform.machine()}) on {when}; the run time is that
execution's wall time. {trained}
{SMOKE_NOTE if mode == "smoke" else ""}

The pages show the notebooks as they ran. Interactive widgets are drawn in their default state;
run a notebook in JupyterLab or Colab to use them. Folders are shown as the defaults
(`data/`, `checkpoints/`), not as the folders of the machine that built this site.
Source: <{c['url']}>.

| # | notebook | run time | |
|---|---|---|---|
{table}

```{{toctree}}
:hidden:
:maxdepth: 1

{toc}
```
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute the notebooks and build the course site.")
    parser.add_argument("--mode", choices=("smoke", "full"), default="smoke")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "site")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    parser.add_argument("--only", nargs="*", help="build only these notebook files (default: all)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the executed copy of a notebook whose source has not changed since")
    args = parser.parse_args(argv)

    os.environ["COURSE_SMOKE"] = "1" if args.mode == "smoke" else "0"
    os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars mean nothing on a static page
    c = course()
    out = args.out.resolve()
    work = out.parent / f"{out.name}-work"  # executed notebooks and the Sphinx source
    executed_dir, src = work / "executed", work / "src"
    executed_dir.mkdir(parents=True, exist_ok=True)
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(BOOK, src)
    vendor_assets(src / "_static", REPO / "build" / "site-vendor")
    (src / BADGE_FILE).write_text(BADGE)

    saved_before = saved_models()  # what this build's notebooks load instead of training
    sanitize = make_sanitizer(machine_paths())
    rows, problems, loaded = [], [], set()
    entries = [e for e in c["notebooks"] if not args.only or e["file"] in args.only]
    if args.only and len(entries) != len(args.only):
        raise SystemExit(f"--only names notebooks that are not in [tool.course] notebooks: {args.only}")
    with tempfile.TemporaryDirectory(prefix="course-site-kernels-") as ipc_dir:
        for entry in entries:
            path = REPO / "notebooks" / entry["file"]
            cached = executed_dir / entry["file"]
            digest = source_hash(path)
            nb = nbformat.read(cached, as_version=4) if args.reuse and cached.is_file() else None
            if nb is not None and nb.metadata.get("course_site", {}).get("source_sha256") == digest \
                    and nb.metadata["course_site"].get("mode") == args.mode \
                    and "saved_before" in nb.metadata["course_site"]:
                seconds = nb.metadata["course_site"]["seconds"]
                loaded.update(nb.metadata["course_site"]["saved_before"])
                print(f"reusing the executed {entry['file']} ({args.mode})", flush=True)
            else:
                print(f"executing {entry['file']} ({args.mode}) ...", flush=True)
                nb, seconds = execute(path, args.timeout, ipc_dir)
                nb.metadata["course_site"] = {"source_sha256": digest, "mode": args.mode, "seconds": seconds,
                                              "saved_before": saved_before}
                loaded.update(saved_before)
                nbformat.write(nb, cached)
                print(f"  {seconds:.0f} s", flush=True)
            problems += prepare(nb, entry["file"], sanitize)
            nb.metadata.pop("course_site", None)
            nbformat.write(nb, src / entry["file"])
            rows.append({"number": entry["file"][:2], "title": entry["title"], "summary": entry["summary"],
                         "page": path.stem, "html": f"{path.stem}.html",
                         "seconds": seconds, "colab": colab_url(c["repo"], entry["file"])})
    loaded = sorted(loaded)
    (src / "index.md").write_text(index_page(c, rows, args.mode, loaded))
    (src / "site.json").write_text(json.dumps({
        "title": c["title"], "url": c["url"],
        "katex_js": str(src / "_static" / "vendor" / "katex" / "katex.min.js")}))

    print("rendering with Sphinx ...", flush=True)
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    # Sphinx's warnings are printed, not fatal: the browser test decides what a broken page is.
    sphinx(["-b", "html", "-q", "-d", str(work / "doctrees"), str(src), str(out)])
    (out / "build.json").write_text(json.dumps(
        {"mode": args.mode, "notebooks": rows, "loaded_models": loaded, "widget_problems": problems},
        indent=1))
    for problem in problems:
        print(f"widget without a complete static fallback: {problem}", file=sys.stderr)
    print(f"rendered in {time.perf_counter() - t0:.0f} s; site written to {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

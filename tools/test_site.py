"""Serve the built course site on localhost and check it in headless Chromium, offline.

    python -m pytest tools/test_site.py --site build/site

The browser has no network: every request that is not for the local server goes to a proxy that
refuses it and records it, and the test fails if a page asked for anything that is not on the site
(a CDN's script, font or style sheet). On the index, every notebook page and the search page it
checks that:

* the page loads, has a title of its own (not "Notebook", not the site's name alone) and no error
  output, and every image on it is shown;
* the math is typeset (KaTeX, with its fonts loaded from the site) and no raw LaTeX (``$$``,
  ``\\frac``, ...) is left in the text;
* every ipywidgets output has a static fallback, complete (tools/site_widgets.py), and no widget
  output is left for JavaScript that the page does not have;
* an animation's play buttons show their icons (the icon font is loaded from the site);
* no path of the machine that built the site shows (the repository, the home, temporary and data
  folders, the Python installation), and the index names no internal model names;
* search finds a notebook.

``test_the_checks_catch_a_broken_page`` serves a page with all these faults and checks that each is
reported, so these checks cannot silently pass. Needs Debian's ``chromium`` and
``chromium-driver`` (``make test-site`` installs them where it can) and ``selenium``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import socketserver
import sys
import tempfile
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parent.parent
GENERIC_TITLES = {"", "notebook", "untitled", "index", "jupyter notebook"}
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\(?:frac|mathbb|mathcal|mathrm|sum|int|begin|end|left|right|sqrt|"
                     r"alpha|beta|theta|sigma|mu|lambda|log|exp)\b|\$[^$\n]{1,200}\\[A-Za-z]+[^$\n]{0,200}\$")
MACHINE_PATH_PATTERNS = re.compile(
    r"site-packages|dist-packages|/home/[A-Za-z]|/Users/[A-Za-z]|[A-Z]:\\Users")


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site_dir(request) -> Path:
    site = Path(request.config.getoption("--site", default="build/site"))
    if not (site / "index.html").is_file():
        pytest.fail(f"no built site at {site}: run `make site` first")
    return site


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # one line per file would bury the results
        pass


def _serve(directory: Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture(scope="module")
def server(site_dir):
    httpd, url = _serve(site_dir)
    yield url
    httpd.shutdown()


# Chromium's own services (updates, its clock, sign-in), which it calls whatever page is open; the
# proxy refuses them too, but they are not requests of the site (the performance log shows those).
CHROMIUM_SERVICES = re.compile(r"^(CONNECT |[A-Z]+ https?://)(clients\d*\.google\.com|[a-z-]*update\.googleapis\.com|"
                               r"accounts\.google\.com|[a-z-]*\.gvt1\.com|safebrowsing\.googleapis\.com)[:/]")


def left_localhost(proxy, start: int) -> list[str]:
    """Requests refused by the proxy since ``start`` that were not Chromium's own."""
    return [r for r in proxy.requests[start:] if not CHROMIUM_SERVICES.match(r)]


class _Refuser(socketserver.StreamRequestHandler):
    """A proxy that answers every request with 403 and writes down where it wanted to go."""

    def handle(self):
        line = self.rfile.readline(2048).decode("latin-1").strip()
        if line:
            self.server.requests.append(line)
        self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@pytest.fixture(scope="module")
def refusing_proxy():
    proxy = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Refuser)
    proxy.daemon_threads = True
    proxy.requests = []
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield proxy
    proxy.shutdown()


@pytest.fixture(scope="module")
def browser(refusing_proxy):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    port = refusing_proxy.server_address[1]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps",
                 "--disable-extensions", "--window-size=1280,1600", "--no-pings",
                 "--disable-domain-reliability",
                 "--disable-client-side-phishing-detection", "--metrics-recording-only",
                 "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
                 # No network: every host but the local server goes to the refusing proxy (Chromium
                 # connects to localhost directly), and no other name resolves.
                 f"--proxy-server=http://127.0.0.1:{port}",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


# --- what a page must satisfy ---------------------------------------------------------------------

def machine_paths() -> list[str]:
    """Folders of the machine that built the site (the test runs where the site was built)."""
    folders = {REPO, Path.home(), Path(tempfile.gettempdir()), Path(sys.prefix), Path(sys.base_prefix),
               Path.cwd()}
    for var in ("COURSE_DATA_DIR", "COURSE_CHECKPOINT_DIR", "VIRTUAL_ENV"):
        if os.environ.get(var):
            folders.add(Path(os.environ[var]))
    paths = set()
    for folder in folders:
        for p in (folder, folder.resolve()):
            if len(p.parts) > 1:  # not "/"
                paths.add(str(p))
    return sorted(paths)


def machine_paths_in(text: str) -> list[str]:
    """The build machine's folders (whole path components) and tell-tale library paths in ``text``."""
    found = [p for p in machine_paths() if re.search(rf"(?<![\w.~-]){re.escape(p)}(?![\w.-])", text)]
    return found + sorted(set(MACHINE_PATH_PATTERNS.findall(text)))


def requests_made(browser) -> list[str]:
    """URLs the page asked for since the last call (from Chromium's performance log)."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return urls


JS_PAGE_FACTS = """
const done = arguments[arguments.length - 1];
document.fonts.ready.then(() => {
  const main = document.querySelector('article') || document.querySelector('main') || document.body;
  const prose = main.cloneNode(true);
  prose.querySelectorAll('pre, code, .katex, .cell_output, .output, script, style').forEach(e => e.remove());
  const fallbacks = Array.from(document.querySelectorAll('.widget-fallback'));
  const faces = Array.from(document.fonts).filter(f => f.status === 'loaded')
    .map(f => f.family.replace(/"/g, ''));
  done({
    title: document.title,
    text: document.body.innerText,
    prose: prose.innerText,
    katex: document.querySelectorAll('.katex').length,
    faces: faces,
    images: Array.from(document.images).map(i => [i.src.slice(0, 80), i.complete, i.naturalWidth]),
    errors: Array.from(document.querySelectorAll('.output.traceback, .output.error, .output.stderr'))
      .map(e => e.innerText).filter(t => /Traceback|Error\\b|Exception\\b/.test(t)),
    widgetScripts: document.querySelectorAll('script[type*="jupyter.widget"]').length,
    fallbacks: fallbacks.map(f => ({missing: f.classList.contains('widget-fallback-missing'),
      problems: f.dataset.problems || '',
      shown: f.querySelectorAll('img, input, select, button').length})),
    animIcons: Array.from(document.querySelectorAll('.anim-buttons button')).map(b => {
      const icon = b.querySelector('i, svg');
      return icon ? [icon.tagName.toLowerCase(), getComputedStyle(icon).fontFamily,
                     icon.getBoundingClientRect().width] : ['none', '', 0];
    }),
  });
});
"""


def page_problems(browser, url: str, local: str, expect_math: bool, min_images: int = 0) -> list[str]:
    """Everything wrong with the page at ``url``, as sentences (empty when all is well)."""
    requests_made(browser)  # forget what came before
    browser.get(url)
    facts = browser.execute_async_script(JS_PAGE_FACTS)
    problems = []
    outside = [u for u in requests_made(browser)
               if not u.startswith((local + "/", "data:", "blob:", "about:"))]
    if outside:
        problems.append(f"asked for files that are not on the site (no network here): {outside[:5]}")
    title = facts["title"].strip()
    if title.lower() in GENERIC_TITLES or title.split(" — ")[0].strip().lower() in GENERIC_TITLES:
        problems.append(f"generic page title {title!r}")
    broken = [src for src, complete, width in facts["images"] if not complete or width == 0]
    if broken:
        problems.append(f"images not shown: {broken}")
    if len(facts["images"]) < min_images:
        problems.append(f"only {len(facts['images'])} images (expected at least {min_images})")
    if facts["errors"]:
        problems.append(f"an error output: {facts['errors'][0][:300]}")
    raw = RAW_TEX.search(facts["prose"])
    if raw:
        start = max(raw.start() - 60, 0)
        problems.append(f"raw LaTeX in the text: ...{facts['prose'][start:raw.end() + 60]!r}...")
    if expect_math and not facts["katex"]:
        problems.append("no typeset math on a page whose notebook has equations")
    if facts["katex"] and not any("KaTeX" in face for face in facts["faces"]):
        problems.append("math without the KaTeX fonts (not loaded from the site)")
    if facts["widgetScripts"]:
        problems.append(f"{facts['widgetScripts']} widget outputs left for JavaScript (no static fallback)")
    for fallback in facts["fallbacks"]:
        if fallback["missing"] or not fallback["shown"]:
            why = fallback["problems"] or "shows nothing"
            problems.append(f"a widget's static fallback is incomplete: {why}")
    if facts["animIcons"]:
        no_font = not any("FontAwesome" in face for face in facts["faces"])
        fonts = [family for tag, family, _ in facts["animIcons"] if tag == "i"]
        blank = [tag for tag, family, width in facts["animIcons"]
                 if width == 0 or (tag == "i" and "FontAwesome" not in family)]
        if blank or (fonts and no_font):
            problems.append("an animation's buttons have no icons (the icon font did not load)")
    shown = machine_paths_in(facts["text"])
    if shown:
        problems.append(f"paths of the build machine on the page: {shown}")
    return problems


#: Sphinx's smartquotes typesets ' and " as curly quotes in the pages (and their titles)
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def plain_quotes(text: str) -> str:
    """``text`` with typographic quotes turned back into straight ones, to compare with the sources."""
    return text.translate(_CURLY)


def _notebook_facts(site_dir: Path) -> list[dict]:
    import nbformat

    built = json.loads((site_dir / "build.json").read_text())
    rows = []
    for row in built["notebooks"]:
        nb = nbformat.read(REPO / "notebooks" / row["html"].replace(".html", ".ipynb"), as_version=4)
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        heading = next(line[2:].strip() for line in markdown.splitlines() if line.startswith("# "))
        rows.append({**row, "math": "$" in markdown, "heading": heading})
    return rows


# --- the tests ------------------------------------------------------------------------------------

def test_every_notebook_was_built(site_dir):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sync_notebooks import course

    built = json.loads((site_dir / "build.json").read_text())
    expected = [nb["file"].replace(".ipynb", ".html") for nb in course()["notebooks"]]
    assert [row["html"] for row in built["notebooks"]] == expected
    assert all((site_dir / page).is_file() for page in expected)


def test_notebook_pages_work_offline(site_dir, server, browser, refusing_proxy):
    start, titles = len(refusing_proxy.requests), set()
    for row in _notebook_facts(site_dir):
        problems = page_problems(browser, f"{server}/{row['html']}", server, expect_math=row["math"],
                                 min_images=3)
        assert not problems, f"{row['html']}:\n  " + "\n  ".join(problems)
        title = plain_quotes(browser.title)
        assert title.startswith(plain_quotes(row["heading"])), (row["html"], browser.title)
        titles.add(browser.title)
    assert len(titles) == len(_notebook_facts(site_dir)), "two pages have the same title"
    left = left_localhost(refusing_proxy, start)
    assert not left, f"requests that tried to leave localhost: {left}"


def test_no_file_of_the_site_shows_a_path_of_the_build_machine(site_dir):
    """Also in what no browser check opens: other pages, attributes, the search index."""
    for path in sorted(site_dir.rglob("*")):
        if path.suffix in (".html", ".js", ".json", ".txt") and "_static" not in path.parts \
                and path.name != "build.json":
            shown = machine_paths_in(path.read_text(errors="replace"))
            assert not shown, f"{path.relative_to(site_dir)} shows paths of the build machine: {shown}"


def test_index_works_offline_and_names_no_internal_models(site_dir, server, browser, refusing_proxy):
    start = len(refusing_proxy.requests)
    problems = page_problems(browser, f"{server}/index.html", server, expect_math=False)
    assert not problems, "index.html:\n  " + "\n  ".join(problems)
    text = browser.find_element("tag name", "body").text
    built = json.loads((site_dir / "build.json").read_text())
    for row in built["notebooks"]:
        assert plain_quotes(row["title"]) in plain_quotes(text), f"the index does not list {row['title']}"
    internal = [name for name in built["loaded_models"] if re.search(rf"\b{re.escape(name)}\b", text)]
    assert not internal, f"the index lists internal model names: {internal}"
    browser.save_screenshot(str(site_dir.parent / f"{site_dir.name}-index.png"))
    left = left_localhost(refusing_proxy, start)
    assert not left, f"requests that tried to leave localhost: {left}"


def test_search_finds_a_notebook(site_dir, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    first = _notebook_facts(site_dir)[0]
    word = max(re.findall(r"[A-Za-z]{6,}", first["heading"]), key=len)
    browser.get(f"{server}/search.html?q={word}")
    WebDriverWait(browser, 30).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#search-results li a")
        or "did not match" in b.find_element(By.ID, "search-results").text)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#search-results li a")]
    assert any(first["html"] in link for link in links), f"searching {word!r} found {links}"


BROKEN_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Notebook</title>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css">
</head><body><article><p>The loss $$\\mathcal L = \\sum_i x_i$$ is raw.</p>
<div class="output stream"><pre>Delete {path}/dcgan.pt to train again</pre></div>
<script type="application/vnd.jupyter.widget-view+json">{{"model_id": "abc"}}</script>
<div class="widget-fallback widget-fallback-missing" data-problems="an empty interact() output"></div>
<div class="anim-buttons"><button><i class="fa fa-play"></i></button></div>
</article></body></html>"""


def test_plain_quotes_undoes_smartquotes():
    title = "07 \u00b7 Johnson\u2019s networks \u2014 the \u201ccourse\u201d"
    assert plain_quotes(title) == "07 \u00b7 Johnson's networks \u2014 the \"course\""


def test_the_checks_catch_a_broken_page(browser, refusing_proxy, tmp_path):
    """A page with every fault that the site once had is reported on each count, and its request
    for a CDN's style sheet reached the refusing proxy instead of the internet."""
    start = len(refusing_proxy.requests)
    (tmp_path / "broken.html").write_text(BROKEN_PAGE.format(path=machine_paths()[0]))
    httpd, url = _serve(tmp_path)
    try:
        problems = "\n".join(page_problems(browser, f"{url}/broken.html", url, expect_math=True))
    finally:
        httpd.shutdown()
    for expected in ("not on the site", "generic page title", "raw LaTeX", "no typeset math",
                     "widget outputs left for JavaScript", "static fallback is incomplete",
                     "buttons have no icons", "paths of the build machine"):
        assert expected in problems, f"not reported: {expected}\n{problems}"
    refused = left_localhost(refusing_proxy, start)
    assert any("maxcdn.bootstrapcdn.com" in r for r in refused), refused



def _widget_state(outputs: list, interact: bool = True) -> dict:
    """A widget state as nbclient stores it: an interact box with a slider, a dropdown and an output."""
    return {
        "box": {"model_name": "VBoxModel", "state": {
            "_dom_classes": ["widget-interact"] if interact else [],
            "children": ["IPY_MODEL_slider", "IPY_MODEL_choice", "IPY_MODEL_out"]}},
        "slider": {"model_name": "FloatSliderModel", "state": {"description": "ink", "value": 0.5, "min": -2,
                                                               "max": 2, "step": 0.25}},
        "choice": {"model_name": "DropdownModel", "state": {"description": "digit", "index": 3,
                                                            "_options_labels": [str(d) for d in range(10)]}},
        "out": {"model_name": "OutputModel", "state": {"outputs": outputs}},
        "layout": {"model_name": "LayoutModel", "state": {}},
    }


def test_widget_fallback_shows_the_default_state():
    from site_widgets import fallback_html

    png = {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo="}, "metadata": {}}
    html, problems = fallback_html("box", _widget_state([png]))
    assert not problems and "widget-fallback-missing" not in html
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html  # the figure drawn for the defaults
    assert "ink" in html and "0.5" in html and "<option selected>3</option>" in html


def test_widget_fallback_is_marked_missing_when_there_is_nothing_to_show():
    from site_widgets import fallback_html

    html, problems = fallback_html("box", _widget_state([]))  # interact() drew nothing
    assert "widget-fallback-missing" in html and "output area is empty" in problems[0]
    _, problems = fallback_html("nowhere", _widget_state([]))
    assert "not in the notebook's widget state" in problems[0]
    html, problems = fallback_html("box", _widget_state([], interact=False))  # a button's output area
    assert not problems and "appears here" in html


def test_an_error_inside_a_widget_stops_the_build():
    from site_widgets import WidgetOutputError, fallback_html

    error = {"output_type": "error", "ename": "ValueError", "evalue": "bad digit", "traceback": []}
    with pytest.raises(WidgetOutputError, match="bad digit"):
        fallback_html("box", _widget_state([error]))


def test_a_progress_bar_is_shown_without_the_interactive_note():
    from site_widgets import NOTE, fallback_html

    state = {"bar": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_p", "IPY_MODEL_t"]}},
             "p": {"model_name": "FloatProgressModel", "state": {"value": 250, "max": 250}},
             "t": {"model_name": "HTMLModel", "state": {"value": "250/250 [00:10&lt;00:00]"}}}
    html, problems = fallback_html("bar", state)
    assert not problems and NOTE not in html and 'type="range"' in html

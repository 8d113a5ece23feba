"""Serve the built course site on localhost and check it in headless Chromium.

    python -m pytest tools/test_site.py --site build/site

For the index and every notebook page: the page loads, every image on it is shown
(loaded, non-zero size), and no output on it is an error. A screenshot of the index
is saved next to the site (``<site>-index.png``). Needs Debian's ``chromium`` and
``chromium-driver`` packages (``make test-site`` installs them where it can) and the
``selenium`` package (a dev dependency).
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import urllib.request
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def site_dir(request) -> Path:
    site = Path(request.config.getoption("--site", default="build/site"))
    if not (site / "index.html").is_file():
        pytest.fail(f"no built site at {site}: run `make site` first")
    return site


@pytest.fixture(scope="module")
def server(site_dir):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1600"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


def pages(site_dir: Path) -> list[str]:
    built = json.loads((site_dir / "build.json").read_text())
    return ["index.html"] + [row["html"] for row in built["notebooks"]]


def test_every_notebook_was_built(site_dir):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sync_notebooks import course

    built = json.loads((site_dir / "build.json").read_text())
    expected = [nb["file"].replace(".ipynb", ".html") for nb in course()["notebooks"]]
    assert [row["html"] for row in built["notebooks"]] == expected


def test_pages_load_show_their_images_and_have_no_errors(site_dir, server, browser):
    for page in pages(site_dir):
        url = f"{server}/{page}"
        with urllib.request.urlopen(url) as response:
            assert response.status == 200, url
        browser.get(url)
        assert browser.execute_script("return document.readyState") == "complete", page
        assert browser.title, f"{page} has no title"
        images = browser.execute_script(
            "return Array.from(document.images).map(i => [i.src.slice(0, 80), i.complete, i.naturalWidth])")
        broken = [src for src, complete, width in images if not complete or width == 0]
        assert not broken, f"{page}: images not shown: {broken}"
        if page != "index.html":
            assert len(images) >= 3, f"{page} shows only {len(images)} images"
        errors = browser.execute_script(
            "const sel = '[data-mime-type=\"application/vnd.jupyter.stderr\"]';"
            "return Array.from(document.querySelectorAll(sel))"
            ".map(e => e.innerText).filter(t => /Traceback|Error\\b|Exception\\b/.test(t))")
        assert not errors, f"{page} contains an error output: {errors[0][:300]}"
        if page == "index.html":
            browser.save_screenshot(str(site_dir.parent / f"{site_dir.name}-index.png"))

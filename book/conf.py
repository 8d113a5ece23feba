"""Sphinx configuration of the course site (Sphinx + MyST-NB + sphinx-book-theme, the engine of
Jupyter Book 1). ``tools/build_site.py`` copies this folder into its staging folder, next to the
executed notebooks, the generated ``index.md`` and the vendored assets, then runs ``sphinx-build``.
Nothing here loads from the internet: math is rendered to HTML at build time (KaTeX), and the
KaTeX fonts, the icon font and the search index are files of the site.
"""

import json
from pathlib import Path

_site = json.loads((Path(__file__).parent / "site.json").read_text())  # written by build_site.py

project = _site["title"]
html_title = _site["title"]
author = "the course's authors"
copyright = "the course's authors, MIT License"  # noqa: A001

extensions = ["myst_nb", "sphinxcontrib.katex"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# The notebooks are executed by build_site.py (timed, one at a time, with the course's settings);
# MyST-NB only renders what they produced.
nb_execution_mode = "off"
# Widgets are replaced by static fallbacks at build time, so no widget JavaScript is needed
# (MyST-NB's default would load RequireJS and the widget manager from two CDNs).
nb_ipywidgets_js = {}
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
# $$...$$ inside a paragraph is display math, as in JupyterLab and Colab (MyST would otherwise pair its
# dollars with the next inline $...$ and print raw LaTeX; tests/test_notebook_math.py checks every cell).
myst_dmath_double_inline = True
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

# Math: rendered to HTML by KaTeX (run with node) while building; pages only need katex.min.css
# and its fonts, served from _static.
katex_prerender = True
katex_js_path = _site["katex_js"]
katex_css_path = "vendor/katex/katex.min.css"

html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["vendor/font-awesome/css/font-awesome.min.css", "course.css"]
html_theme_options = {
    "repository_url": _site["url"],
    "use_repository_button": True,
    "use_download_button": False,  # the pages' sources are not copied (they hold the build's outputs)
    "home_page_in_toc": True,
    "show_toc_level": 2,
}
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None

"""The built HTML book as a reader's browser meets it: headless Chromium on every page, no network.

``_build/html`` (or ``$GANCOURSE_HTML``) is served on 127.0.0.1 and every other request is
blocked, so a page that needs a CDN fails. On every page: HTTP 200, every image decoded,
every internal link and anchor resolves, MathJax rendered every formula without errors, no
console error (beyond :data:`ALLOWED_CONSOLE`), and every player's slider changes the frame
it shows. A screenshot of each page goes to ``_build/screenshots/``. At a phone's 390 px, no
line of code wraps and no figure is shrunk below its pixel size. Deliberately broken pages
prove that each check can fail.

Needs Playwright (requirements.txt) and a Chromium: Debian's ``chromium`` (``.ci/run``
installs it; Playwright's own browser download is not used), or ``$CHROMIUM``. Without a
browser or without a built book the browser tests are skipped, saying which is missing;
with ``GANCOURSE_REQUIRE_BROWSER=1`` (CI's browser step) they fail instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = Path(os.environ.get("GANCOURSE_HTML", ROOT / "_build" / "html"))
SCREENSHOTS = ROOT / "_build" / "screenshots"

# Console messages that are not the book's fault, each with the reason it is allowed.
ALLOWED_CONSOLE: list[tuple[str, str]] = [
    # (none so far: a message that must be tolerated goes here, with a regex and why)
]


def unavailable(reason: str):
    """Skip, or fail where CI sets GANCOURSE_REQUIRE_BROWSER=1 (there a skipped browser test would hide a break)."""
    if os.environ.get("GANCOURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"GANCOURSE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


# ---------------------------------------------------------------------------------------------
# Serving and auditing (also used on the broken page below)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no line per request in the test output
        pass


@functools.cache
def _html_ids(path: Path) -> set[str]:
    text = path.read_text(errors="replace")
    return set(re.findall(r'\s(?:id|name)="([^"]+)"', text))


def serve(root: Path):
    """A thread serving ``root`` on 127.0.0.1 (a free port); returns (server, base URL)."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


WAIT_FOR_PAGE = """async () => {
    for (const img of document.images) img.loading = "eager";
    await Promise.all(Array.from(document.images).map(img => img.decode().catch(() => null)));
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
}"""

INSPECT_PAGE = """() => {
    const broken = Array.from(document.images)
        .filter(img => !img.complete || img.naturalWidth === 0)
        .map(img => (img.getAttribute("src") || "").slice(0, 80));
    const math = Array.from(document.querySelectorAll(".math"));
    const unrendered = math.filter(m => !m.querySelector("mjx-container")).map(m => m.textContent.slice(0, 60));
    const mathErrors = Array.from(document.querySelectorAll("mjx-merror, [data-mjx-error]"))
        .map(e => e.getAttribute("data-mjx-error") || e.textContent.slice(0, 60));
    const links = Array.from(document.querySelectorAll("a[href]")).map(a => a.href);
    return {broken, unrendered, mathErrors, links, players: document.querySelectorAll(".gancourse-player").length};
}"""

SHOWN_FRAME = """(player) => {
    const frames = Array.from(player.querySelectorAll(".gcp-frame"));
    const shown = frames.map((f, i) => [i, f]).filter(([i, f]) => getComputedStyle(f).display !== "none"
        && f.naturalWidth > 0 && f.getBoundingClientRect().width > 0);
    return {shown: shown.map(([i]) => i), n: frames.length,
            label: player.querySelector(".gcp-label").textContent};
}"""


def check_players(page) -> list[str]:
    """Move every player's slider one step with the keyboard: the frame and its label must change."""
    problems = []
    for k, player in enumerate(page.query_selector_all(".gancourse-player")):
        before = player.evaluate(SHOWN_FRAME)
        if len(before["shown"]) != 1:
            problems.append(f"player {k}: {len(before['shown'])} frames shown before moving, expected 1")
            continue
        if before["n"] < 2:
            continue
        slider = player.query_selector(".gcp-slider")
        slider.scroll_into_view_if_needed()
        slider.focus()
        page.keyboard.press("ArrowLeft" if before["shown"][0] == before["n"] - 1 else "ArrowRight")
        after = player.evaluate(SHOWN_FRAME)
        if after["shown"] == before["shown"] or len(after["shown"]) != 1 or after["label"] == before["label"]:
            problems.append(
                f"player {k}: moving the slider did not change the frame "
                f"(shown {before['shown']} -> {after['shown']}, label {before['label']!r} -> {after['label']!r})"
            )
    return problems


def audit(browser, root: Path, pages: list[str], screenshots: Path | None = None) -> dict[str, list[str]]:
    """Open each page of ``root`` (paths relative to it) and list what is wrong with it, by page."""
    server, base = serve(root)
    results: dict[str, list[str]] = {}
    links: dict[str, list[str]] = {}
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        blocked: list[str] = []

        def route(r):
            if r.request.url.startswith(base) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        for name in pages:
            problems = results.setdefault(name, [])
            text = (root / name).read_text(errors="replace") if (root / name).is_file() else ""
            redirect = re.search(r'<meta http-equiv="refresh" content="\d+;\s*url=([^"]+)"', text, re.I)
            if redirect:  # a redirect page (the book's index.html): its target must exist
                links[name] = [urljoin(base + name, redirect.group(1))]
                continue
            blocked.clear()
            console: list[str] = []
            page = context.new_page()
            page.on("console", lambda m, console=console: console.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, console=console: console.append(f"uncaught: {e}"))
            response = page.goto(base + name, wait_until="load")
            if response is None or response.status != 200:
                problems.append(f"HTTP {response.status if response else 'no response'}")
                page.close()
                continue
            page.evaluate(WAIT_FOR_PAGE)
            found = page.evaluate(INSPECT_PAGE)
            problems += [f"image not decoded: {src}" for src in found["broken"]]
            problems += [f"math not rendered: {text}" for text in found["unrendered"]]
            problems += [f"MathJax error: {text}" for text in found["mathErrors"]]
            problems += check_players(page)
            links[name] = found["links"]
            if screenshots is not None:
                screenshots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshots / (name.replace("/", "__") + ".jpg")), full_page=True, quality=70)
            page.wait_for_timeout(100)  # late console messages
            problems += [f"blocked request (needs the network): {url}" for url in blocked]
            for text in console:
                if not any(re.search(pattern, text) for pattern, _ in ALLOWED_CONSOLE):
                    # failed loads of blocked requests are reported above, once
                    if not (blocked and "net::ERR_FAILED" in text):
                        problems.append(f"console error: {text[:200]}")
            page.close()
        context.close()
    finally:
        server.shutdown()
    for name, hrefs in links.items():
        results[name] += link_problems(root, base, name, hrefs)
    return results


def link_problems(root: Path, base: str, page: str, hrefs: list[str]) -> list[str]:
    """Internal links whose file is missing, or whose #anchor is not an id of the target page."""
    problems = []
    for href in sorted(set(hrefs)):
        if not href.startswith(base):
            continue  # external (launch buttons, the repository): not requested, not checked
        url, anchor = urldefrag(href)
        relative = unquote(urlparse(url).path)[1:]
        target = root / relative
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"broken link: {href[len(base) :]}")
        elif anchor and target.suffix == ".html" and anchor not in _html_ids(target):
            problems.append(f"broken anchor: {href[len(base) :]}")
    return problems


# ---------------------------------------------------------------------------------------------
# A phone's screen: code lines keep their shape, figures their size


PHONE = {"width": 390, "height": 844}  # a common phone's CSS pixels

INSPECT_PHONE = """() => {
    const problems = [];
    for (const pre of document.querySelectorAll("div.highlight pre, div.cell_output pre")) {
        const shown = pre.clientHeight, before = pre.style.whiteSpace;
        pre.style.whiteSpace = "pre";  // the same lines, unwrapped
        const unwrapped = pre.clientHeight;
        pre.style.whiteSpace = before;
        const lines = pre.textContent.replace(/\\n$/, "").split("\\n").length;
        if (shown > unwrapped + 1)
            problems.push(`code wraps: ${lines} lines take ${shown} px, unwrapped ${unwrapped} px: `
                          + pre.textContent.slice(0, 60));
    }
    for (const img of document.querySelectorAll("div.cell_output img, img.gcp-frame")) {
        const shown = img.getBoundingClientRect().width;
        if (shown > 0 && img.naturalWidth > 0 && shown < 0.98 * img.naturalWidth)
            problems.push(`figure shrunk to ${Math.round(shown)} of its ${img.naturalWidth} px: `
                          + (img.getAttribute("alt") || img.getAttribute("src") || "").slice(0, 60));
    }
    const wide = document.documentElement.scrollWidth;
    if (wide > window.innerWidth + 1) problems.push(`the page scrolls sideways: ${wide} px wide`);
    return problems;
}"""


def phone_problems(browser, root: Path, pages: list[str]) -> dict[str, list[str]]:
    """Each page of ``root`` at :data:`PHONE`'s width: lines of code that wrap, figures shrunk below their pixel size.

    A code block may scroll sideways (its scrollWidth above its clientWidth) and so may a
    figure's output; the page itself may not.
    """
    server, base = serve(root)
    results = {}
    try:
        context = browser.new_context(viewport=PHONE)
        context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
        for name in pages:
            page = context.new_page()
            page.goto(base + name, wait_until="load")
            page.evaluate(WAIT_FOR_PAGE)
            results[name] = page.evaluate(INSPECT_PHONE)
            page.close()
        context.close()
    finally:
        server.shutdown()
    return results


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install -r requirements.txt)")
    executable = chromium_path()
    if executable is None:
        unavailable("no Chromium found: apt-get install chromium (or set $CHROMIUM to a Chromium binary)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def built_pages() -> list[str]:
    pages = [
        p.relative_to(BOOK).as_posix() for p in BOOK.rglob("*.html") if not p.relative_to(BOOK).parts[0].startswith("_")
    ]
    return sorted(pages)


@pytest.fixture(scope="module")
def book():
    if not (BOOK / "index.html").is_file():
        unavailable(f"no built book at {BOOK}: run `jupyter-book build .` first")
    return BOOK


# ---------------------------------------------------------------------------------------------
# The built book


@pytest.mark.slow
def test_every_page_works_in_a_browser_offline(browser, book):
    pages = built_pages()
    assert len(pages) >= 14, pages
    results = audit(browser, book, pages, SCREENSHOTS)
    bad = {page: problems for page, problems in results.items() if problems}
    assert not bad, "\n".join(f"{page}:\n  " + "\n  ".join(problems) for page, problems in bad.items())


@pytest.mark.slow
def test_the_book_has_players_that_move(browser, book):
    """At least six kernel-free sliders across the chapters (the audit above checks that each one moves)."""
    pages = [p for p in built_pages() if re.match(r"book/\d\d_", p)]
    executed = [p for p in pages if '<div class="cell_output' in (book / p).read_text()]
    if len(executed) < len(pages):
        unavailable(f"{len(pages) - len(executed)} of {len(pages)} chapters were built without executing them")
    players = sum((book / p).read_text().count('class="gancourse-player"') for p in pages)
    assert players >= 6


@pytest.mark.slow
def test_chapters_on_a_phone_keep_code_lines_whole_and_figures_readable(browser, book):
    pages = [p for p in built_pages() if re.match(r"book/\d\d_", p)]
    bad = phone_problems(browser, book, pages)
    assert not any(bad.values()), "\n".join(f"{page}:\n  " + "\n  ".join(ps) for page, ps in bad.items() if ps)


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def test_colab_links_open_notebooks_the_build_wrote(book):
    cfg = _config()
    branch = cfg["sphinx"]["config"]["gancourse_pages_branch"]
    repo = cfg["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    prefix = f"https://colab.research.google.com/github/{repo}/blob/{branch}/"
    chapters = [p for p in built_pages() if re.match(r"book/\d\d_", p)]
    assert chapters
    for page in chapters:
        hrefs = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', (book / page).read_text())
        assert len(hrefs) == 1, f"{page}: {len(hrefs)} Colab links"
        assert hrefs[0].startswith(prefix) and hrefs[0].endswith(".ipynb"), hrefs[0]
        notebook = book / hrefs[0][len(prefix) :]
        assert notebook.is_file(), f"{page}: the Colab link points at {notebook}, which the build did not write"
        first = jupytext.read(notebook).cells[0]
        assert first.cell_type == "code" and "google.colab" in first.source
        assert f"git+{cfg['repository']['url'].rstrip('/')}.git@" in first.source  # the configured repository
        assert "{cite}" not in "".join(c.source for c in jupytext.read(notebook).cells if c.cell_type == "markdown")


def image_alt_problems(page: str, text: str) -> list[str]:
    """The ``<img>`` tags of a built page's figures (``_images/*.png``) whose alt does not say what they show."""
    problems = []
    for tag in re.findall(r"<img\b[^>]*>", text):
        alt = (re.search(r'\salt="([^"]*)"', tag) or [None, ""])[1]
        src = (re.search(r'\ssrc="([^"]*)"', tag) or [None, ""])[1]
        if "_images/" in src and src.lower().endswith(".png"):
            path_like = alt == src or "_images/" in alt or re.search(r"\.(png|jpe?g)$", alt, re.I)
            if not alt.strip() or path_like or alt.startswith("Figure: a figure without"):
                problems.append(f"{page}: {tag[:160]} has no alt text saying what it shows")
    return problems


def test_figures_have_alt_texts_and_pages_name_no_build_folder(book):
    """Every figure's alt says what it shows (``gancourse.alt_text``), and no chapter prints the data folder."""
    pages = built_pages()
    chapters = [p for p in pages if re.match(r"book/\d\d_", p)]
    assert chapters
    problems = [problem for page in pages for problem in image_alt_problems(page, (book / page).read_text())]
    assert not problems, "\n".join(problems)
    if any('<div class="cell_output' in (book / p).read_text() for p in chapters):  # executed: figures shown
        assert any(re.search(r'<img alt="[^"]+" src="[^"]*_images/', (book / p).read_text()) for p in chapters)
    for page in chapters:
        assert "data root:" not in (book / page).read_text(), f"{page} prints the build machine's data folder"


def test_the_alt_check_fails_on_file_names():
    page = (
        '<img alt="../_images/ab12.png" src="../_images/ab12.png" /><img src="../_images/cd.png">'
        '<img alt="Figure: samples at step 100: a grid of 64 images" src="../_images/ef.png">'
        '<img alt="Binder logo" src="../_static/images/logo_binder.svg">'
    )
    problems = image_alt_problems("x.html", page)
    assert len(problems) == 2 and "ab12.png" in problems[0] and "cd.png" in problems[1]


# ---------------------------------------------------------------------------------------------
# The sources (no build needed)


def test_every_chapter_starts_with_the_hidden_colab_setup_cell():
    chapters = sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))
    assert chapters
    for chapter in chapters:
        first = jupytext.read(chapter).cells[0]
        assert first.cell_type == "code", chapter.name
        assert "remove-cell" in first.metadata.get("tags", []), chapter.name  # hidden in the HTML book
        assert first.source.count('if "google.colab" in sys.modules:') == 1, chapter.name  # a no-op elsewhere
        assert re.search(r'%pip install -q "gancourse @ git\+', first.source), chapter.name  # the build pins it


# ---------------------------------------------------------------------------------------------
# The checks can fail: a deliberately broken page


def _player_html(dead: bool) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gancourse import players

    def draw(v):
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([0, 1], [0, v])
        return fig

    html = players.player([0.0, 0.5, 1.0], draw, labels=["a", "b", "c"])._repr_html_()
    return re.sub(r' oninput="[^"]*"', "", html) if dead else html


PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="  # 1 x 1 PNG
GOOD_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>good</title></head><body>
<h1 id="top">A good page</h1><p><a href="#top">here</a> <a href="broken.html">there</a></p>
<img src="data:image/png;base64,{pixel}">
{player}</body></html>"""

BROKEN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>broken</title>
<script src="https://cdn.example.org/lib.js"></script></head><body>
<h1>A broken page</h1>
<img src="missing.png">
<a href="nowhere.html">a missing page</a> <a href="good.html#no-such-anchor">a missing anchor</a>
<span class="math">\\(x^2\\)</span>
<script>notDefinedAnywhere();</script>
{player}</body></html>"""


@pytest.mark.slow
def test_the_checks_fail_on_a_broken_page(browser, tmp_path):
    (tmp_path / "good.html").write_text(GOOD_PAGE.format(pixel=PIXEL, player=_player_html(dead=False)))
    (tmp_path / "broken.html").write_text(BROKEN_PAGE.format(player=_player_html(dead=True)))
    results = audit(browser, tmp_path, ["good.html", "broken.html", "absent.html"], tmp_path / "shots")
    assert results["good.html"] == []  # a live player moves; the checks pass a sound page
    assert (tmp_path / "shots" / "good.html.jpg").stat().st_size > 0
    problems = "\n".join(results["broken.html"])
    for expected in (
        "image not decoded: missing.png",
        "broken link: nowhere.html",
        "broken anchor: good.html#no-such-anchor",
        "math not rendered",
        "notDefinedAnywhere",
        "blocked request (needs the network): https://cdn.example.org/lib.js",
        "moving the slider did not change the frame",
    ):
        assert expected in problems, f"{expected!r} not reported:\n{problems}"
    assert results["absent.html"] == ["HTTP 404"]


def _wide_png(width: int) -> str:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, 120), "white").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


# MyST-NB's markup for a code cell, its output figure and a player frame, under the theme's own
# rules for images (fit the column).
PHONE_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>phone</title>
<style>body {{ margin: 0 16px; }} img {{ max-width: 100%; height: auto; }}</style>{css}</head><body>
<div class="cell"><div class="cell_input"><div class="highlight"><pre>{code}</pre></div></div>
<div class="cell_output"><img alt="Figure: a wide figure" src="data:image/png;base64,{png}"></div></div>
<div class="cell_output"><div class="gancourse-player"><div class="gcp-frames">
<img class="gcp-frame" src="data:image/png;base64,{png}" alt="a" style="max-width:100%;height:auto"></div></div></div>
{extra}</body></html>"""
LITERAL = '<p><code class="literal"><span class="pre">tests/test_metrics.py::test_' + 60 * "x" + "</span></code></p>"
LONG_CODE = "samples = generator(torch.randn(64, config.latent_dim, device=session.device)).clamp(-1, 1)\nshow(samples)"


@pytest.mark.slow
def test_phones_get_scrolling_code_and_figures_at_their_own_size(browser, tmp_path):
    """The book's CSS passes the phone check; the same page without it fails on each count."""
    shutil.copy(ROOT / "gancourse" / "_static" / "gancourse.css", tmp_path)
    sphinx_literal = "<style>span.pre { white-space: nowrap; }</style>"  # Sphinx's rule; the book's CSS follows it
    book_css = sphinx_literal + '<link rel="stylesheet" href="gancourse.css">'
    wrapping = "<style>pre { white-space: pre-wrap; }</style>"  # as the book's wide-screen rule
    png = _wide_png(700)
    (tmp_path / "book.html").write_text(PHONE_PAGE.format(css=book_css, code=LONG_CODE, png=png, extra=LITERAL))
    (tmp_path / "plain.html").write_text(PHONE_PAGE.format(css=wrapping, code=LONG_CODE, png=png, extra=""))
    wide = '<table style="width: 900px"><tr><td>a table wider than the screen</td></tr></table>'
    (tmp_path / "wide.html").write_text(PHONE_PAGE.format(css=book_css, code="x", png=png, extra=wide))
    (tmp_path / "literal.html").write_text(PHONE_PAGE.format(css=sphinx_literal, code="x", png=png, extra=LITERAL))
    results = phone_problems(browser, tmp_path, ["book.html", "plain.html", "wide.html", "literal.html"])
    assert results["book.html"] == []
    problems = "\n".join(results["plain.html"])
    assert "code wraps: 2 lines take" in problems, problems
    assert problems.count("figure shrunk to") == 2, problems  # the output's figure and the player's frame
    assert len(results["wide.html"]) == 1 and "the page scrolls sideways: 9" in results["wide.html"][0]
    assert any("the page scrolls sideways" in p for p in results["literal.html"]), results["literal.html"]

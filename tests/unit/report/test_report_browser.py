"""Open the report in headless Chromium: every image decodes, nothing fails, it renders.

How it works, with the standard library only:

* A test-only copy of the report gets a small probe script as the first element of
  ``<head>`` (and ``script-src 'unsafe-inline'`` added to the page's
  Content-Security-Policy, which otherwise forbids scripts).  The probe records
  uncaught errors, resources that fail to load and CSP violations; after the
  ``load`` event it counts the ``<img>`` elements with ``naturalWidth > 0`` and
  writes everything as JSON into a ``<pre id="neyman-probe">``.
* ``chromium --dump-dom --virtual-time-budget=…`` prints the DOM once the page has
  loaded and its timers have run; the test reads the probe's JSON from it.
* ``--enable-logging=stderr`` makes Chromium print every console message
  (including "Uncaught …" errors and CSP reports); the test requires none.
* ``--screenshot`` renders the real (unmodified) report to a PNG.

A negative control (a page with a broken image, a blocked external image and a
thrown error) checks that the probe does see failures.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neyman.report import write_report

CHROMIUM = next((path for path in map(shutil.which, ("chromium", "chromium-browser")) if path), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (Debian/Ubuntu: apt-get install chromium); CI installs it",
)

FLAGS = (
    "--headless",
    "--no-sandbox",  # the tests may run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
    # Run the page's timers and finish loading before dumping or capturing.
    "--virtual-time-budget=5000",
)
TIMEOUT_S = 120

PROBE = """<script>
(function () {
  var errors = [];
  window.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target !== window && target.tagName) {
      errors.push("failed to load a " + target.tagName.toLowerCase());
    } else {
      errors.push("uncaught: " + event.message);
    }
  }, true);
  window.addEventListener("securitypolicyviolation", function (event) {
    errors.push("blocked by the CSP: " + event.blockedURI + " (" + event.violatedDirective + ")");
  });
  var consoleError = console.error;
  console.error = function () {
    errors.push("console.error: " + Array.prototype.join.call(arguments, " "));
    return consoleError.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    setTimeout(function () {
      var images = Array.prototype.slice.call(document.images);
      var loaded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; });
      var out = document.createElement("pre");
      out.id = "neyman-probe";
      out.textContent = JSON.stringify({images: images.length, loaded: loaded.length, errors: errors});
      document.body.appendChild(out);
    }, 50);
  });
})();
</script>"""


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert result.returncode == 0, f"chromium failed ({result.returncode}):\n{result.stderr[-3000:]}"
    return result


def _console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def _probed_copy(report: Path, extra_body: str = "") -> Path:
    page = report.read_text(encoding="utf-8")
    csp = "default-src 'none';"
    assert page.count(csp) == 1, "the report's Content-Security-Policy changed; update the probe"
    page = page.replace(csp, f"{csp} script-src 'unsafe-inline';", 1)
    page = page.replace("<head>", f"<head>\n{PROBE}", 1)
    page = page.replace("</main>", f"{extra_body}</main>", 1)
    copy = report.with_name(f"probed-{report.name}")
    copy.write_text(page, encoding="utf-8")
    return copy


def _probe(page: Path, profile: Path) -> tuple[dict[str, Any], list[str]]:
    result = _chromium(profile, "--dump-dom", page.as_uri())
    found = re.search(r'<pre id="neyman-probe">(.*?)</pre>', result.stdout, re.S)
    assert found, f"the probe did not report; chromium's stderr:\n{result.stderr[-3000:]}"
    return json.loads(html.unescape(found.group(1))), _console_messages(result.stderr)


@pytest.fixture
def report(tmp_path, sections) -> Path:
    return write_report(tmp_path / "run" / "report.html", sections, title="browser test", subtitle="mlp · binary")


def test_report_opens_in_chromium_with_every_image_and_no_error(tmp_path, report):
    probe, console = _probe(_probed_copy(report), tmp_path / "profile")
    assert probe == {"images": 3, "loaded": 3, "errors": []}
    assert console == []


def test_report_renders_to_a_screenshot(tmp_path, report):
    shot = tmp_path / "report.png"
    result = _chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    assert _console_messages(result.stderr) == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000

    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1280)
    # The stylesheet applied: the dark masthead at the top, the light page below it.
    assert np.allclose(pixels[5, 5], np.array([0x16, 0x21, 0x3A]) / 255, atol=0.02)
    assert pixels.mean() > 0.8
    # The figures were painted: the column of figures is far from blank.
    assert pixels[300:1900, 300:1250].std() > 0.1


def test_the_probe_sees_failures(tmp_path, report):
    broken = (
        '<img src="data:image/png;base64,AAAA">'  # not an image
        '<img src="http://127.0.0.1:9/x.png">'  # external: blocked by the report's CSP
        '<script>throw new Error("boom")</script>'
    )
    probe, console = _probe(_probed_copy(report, broken), tmp_path / "profile")
    assert probe["images"] == 5 and probe["loaded"] == 3
    errors = " | ".join(probe["errors"])
    assert "uncaught: Uncaught Error: boom" in errors
    assert "blocked by the CSP: http://127.0.0.1:9/x.png" in errors
    assert errors.count("failed to load a img") == 2
    assert any("boom" in line for line in console)


def test_a_real_runs_report_opens_with_every_image(tmp_path):
    import neyman
    from neyman.testing import write_labelled_file
    from neyman.workflows.evaluate import evaluate

    path = write_labelled_file(tmp_path, "parquet", n_events=3000)
    run = neyman.train(
        {
            "name": "r",
            "output_dir": str(tmp_path / "runs"),
            "data": {"sources": [{"path": str(path)}], "label_column": "label", "features": ["x00", "x01", "x02"]},
            "model": {"type": "lightgbm", "n_estimators": 20},
        }
    ).run_dir
    report = evaluate(run, yields=(10.0, 1000.0), n_bootstrap=20, formats=("png",)).report
    assert report is not None
    probe, console = _probe(_probed_copy(report), tmp_path / "profile")
    assert probe["images"] >= 10 and probe["loaded"] == probe["images"] and probe["errors"] == []
    assert console == []
    shot = tmp_path / "run_report.png"
    _chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,3000", report.as_uri())
    assert shot.stat().st_size > 50_000

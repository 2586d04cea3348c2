"""The report in a real browser (Debian's chromium, headless): it loads without console errors, its scripts run,
every chart decodes, the tables are there, and a screenshot is taken (kept under the test's tmp folder)."""

from __future__ import annotations

import re

import pytest

import browser
from lhama.plots import plot_accuracy
from lhama.report import render_report
from test_report import context, metric_row, VARIANTS

pytestmark = pytest.mark.skipif(browser.CHROMIUM is None,
                                reason="chromium is not installed (`make test` installs it with apt where it can)")


def write_png_report(tmp_path, answer="A capital é <script>alert(1)</script>"):
    import csv

    from lhama.report import data_uri

    metrics = tmp_path / "metrics.tsv"
    rows = [metric_row(v, a) for v, a in zip(VARIANTS, (0.1, 0.2, 0.6, 0.7))]
    with open(metrics, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    plot_accuracy(metrics, tmp_path / "accuracy.png")
    page = context(title="Brasil", question="Qual a capital do Brasil?", answer=answer)
    page["plots"] = {name: data_uri(tmp_path / "accuracy.png") for name in page["plots"]}
    page["training"][0]["loss_plot"] = data_uri(tmp_path / "accuracy.png")
    html = tmp_path / "report.html"
    html.write_text(render_report(page), encoding="utf-8")
    return html


def test_report_renders_in_headless_chromium(tmp_path):
    html = write_png_report(tmp_path)
    dom, console = browser.load(html, tmp_path / "report.png")
    assert console == [], console
    assert 'data-ready="true"' in dom  # the page's script ran to the end
    images = re.search(r'data-images="(\d+)" data-images-decoded="(\d+)"', dom)
    assert images and images.group(1) == images.group(2) == "5", images
    for anchor in ("summary", "provenance", "training", "retrieval", "results", "answers"):
        assert f'id="{anchor}"' in dom
    assert dom.count("<table") >= 10
    assert "<script>alert(1)" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    screenshot = (tmp_path / "report.png").read_bytes()
    assert screenshot[:8] == b"\x89PNG\r\n\x1a\n" and len(screenshot) > 50_000


def test_a_script_error_would_be_caught(tmp_path):
    html = tmp_path / "broken.html"
    html.write_text("<html><body><script>undefinedFunction();</script></body></html>", encoding="utf-8")
    _, console = browser.load(html, tmp_path / "broken.png")
    assert any("undefinedFunction is not defined" in message for message in console)

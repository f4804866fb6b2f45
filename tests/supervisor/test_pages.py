"""What a supervisor reads on the pages: figures without "– 0/0", explained where they are shown, the
site's icon, and customers' context in people's words."""
from __future__ import annotations

import re
from html import unescape

from tests.supervisor.conftest import book


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def figure_rows(page: str) -> list[str]:
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return [text_of(row).strip() for row in body.split("<tr>")[1:]]


def test_empty_figures_say_so_in_words(sign_in):
    page = sign_in("sam").get("/supervisor/metrics?period=today").get_data(as_text=True)
    rows = figure_rows(page)
    assert [row.split()[0] for row in rows] == ["billing", "support", "sales", "general"]
    for row in rows:
        assert "0/0" not in row and "–" not in row, row
        assert "no callbacks yet" in row and "nobody held yet" in row and "no told waits yet" in row


def test_figures_with_data_show_rates_and_counts(sign_in, runtime, clock):
    book(runtime, clock)  # one callback requested: offered and accepted
    page = sign_in("sam").get("/supervisor/metrics?period=today").get_data(as_text=True)
    billing = figure_rows(page)[0]
    assert billing.startswith("billing 1 1 (100%) no callbacks yet"), billing


def test_figures_are_explained_on_the_page_not_in_a_file_name(sign_in):
    page = sign_in("sam").get("/supervisor/metrics").get_data(as_text=True)
    assert "docs/supervisor.md" not in page and ".md" not in text_of(page)
    explained = page[page.index('<details class="card how"'):]
    explained = explained[:explained.index("</details>")]
    assert "How each figure is computed" in explained
    terms = [text_of(t).strip() for t in re.findall(r"<dt>(.*?)</dt>", explained, re.S)]
    for column in ("Offered", "Accepted", "Callback success", "Callback wait median and p90",
                   "Abandoned while holding", "Service level (60s)", "Wait error", "People in line",
                   "Waits to connection"):
        assert column in terms, column


def test_the_site_icon_is_served_to_anyone(app):
    response = app.test_client().get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file

"""``GET /api/reports`` and the review page over the real HTTP server: the review token, the
signed cookie, errors that name the parameter, escaping of alert text, and the CSV export."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.slack import ids
from storage.tables import AlertRow
from tests.support.databases import database
from tests.support.harness import Harness, running_tocsin

TOKEN = "review-token-for-tests-0123456789"
EVIL = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


@pytest.fixture
async def tocsin(tmp_path: Path) -> AsyncIterator[Harness]:
    async with (
        database("sqlite", tmp_path) as url,
        running_tocsin(database_url=url, settings={"TOCSIN_REVIEW_TOKEN": TOKEN}) as harness,
    ):
        yield harness


async def alerts_with_one_acknowledged(tocsin: Harness) -> None:
    await tocsin.webhook("generic", {"title": EVIL, "level": 1, "fingerprint": "evil"})
    await tocsin.webhook("generic", {"title": "Disk full", "level": 2, "category": "storage"})
    messages = await tocsin.wait_for_messages(2)
    first = next(m for m in messages if "Disk full" in m.text)
    await tocsin.driver.press_button(
        channel=first.channel, ts=first.ts, action_id=ids.ACKNOWLEDGE, user="U0ALICE"
    )

    async def acknowledged() -> bool:
        async with tocsin.service.db.read() as session:
            rows = (
                await session.exec(
                    select(AlertRow).where(col(AlertRow.acknowledged_by).is_not(None))
                )
            ).all()
        return len(rows) == 1

    await tocsin.until(acknowledged, what="the acknowledgement")


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_api_reports_needs_the_review_token(tocsin: Harness) -> None:
    url = f"{tocsin.base_url}/api/reports"
    missing = await tocsin.http.get(url)
    assert missing.status_code == 401
    assert "Bearer" in missing.json()["error"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = await tocsin.http.get(url, headers=bearer("not-the-token"))
    assert wrong.status_code == 401


async def test_api_reports_returns_the_figures_of_the_period(tocsin: Harness) -> None:
    await alerts_with_one_acknowledged(tocsin)
    response = await tocsin.http.get(
        f"{tocsin.base_url}/api/reports", params={"period": "1d"}, headers=bearer()
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["overall"]["alerts"] == 2
    assert data["overall"]["acknowledged"] == 1
    assert data["by_person"]["U0ALICE"]["alerts"] == 1
    assert set(data["by_level"]) == {"1", "2"}
    assert data["by_category"]["storage"]["alerts"] == 1
    filtered = await tocsin.http.get(
        f"{tocsin.base_url}/api/reports",
        params={"period": "1d", "category": "storage"},
        headers=bearer(),
    )
    assert filtered.json()["overall"]["alerts"] == 1


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"from": "yesterday"}, "from", "is not a date"),
        ({"from": "2026-11-10", "to": "2026-11-01"}, "to", "after from"),
        ({"to": "2026-11-01"}, "from", "required"),
        ({"period": "7x"}, "period", "is not a period"),
        ({"level": "4"}, "level", "not 1, 2 or 3"),
        ({"team": "nope"}, "team", 'no team "nope"'),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "to", "at most 400 days"),
        ({"period": "999999999w"}, "period", "at most 400 days"),  # overflowed: a 500
        ({"period": "2026-01-01..9999-12-31"}, "period", "between 1970-01-01 and 9998-12-31"),
        ({"period": "0001-01-02..9999-12-30"}, "period", "between 1970-01-01 and 9998-12-31"),
        ({"from": "2026-01-01", "to": "9999-12-31"}, "to", "out of range"),  # was a 500
        ({"from": "0001-01-01T00:00:00+01:00"}, "from", "out of range"),  # was a 500
        ({"from": "1900-01-01", "to": "1900-01-02"}, "from", "between 1970-01-01"),
    ],
)
async def test_api_reports_names_the_bad_parameter(
    tocsin: Harness, params: dict[str, str], field: str, words: str
) -> None:
    response = await tocsin.http.get(
        f"{tocsin.base_url}/api/reports", params=params, headers=bearer()
    )
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert words in response.json()["error"]


async def test_review_page_needs_a_login_and_escapes_alert_text(tocsin: Harness) -> None:
    await alerts_with_one_acknowledged(tocsin)
    page = f"{tocsin.base_url}/review"
    anonymous = await tocsin.http.get(page, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/review/login"
    refused = await tocsin.http.post(f"{page}/login", data={"token": "guess"})
    assert refused.status_code == 401
    assert "not the review token" in refused.text

    login = await tocsin.http.post(f"{page}/login", data={"token": TOKEN}, follow_redirects=False)
    assert login.status_code == 303
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    shown = await tocsin.http.get(page, params={"period": "1d"})
    assert shown.status_code == 200
    assert "default-src 'none'" in shown.headers["content-security-policy"]
    html = shown.text
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img" in html
    assert 'id="fig-alerts">2<' in html
    assert "data:image/svg+xml;base64," in html
    assert "acknowledged by @Alice" in html  # timeline mentions shown as names

    tampered = cookie.split(";")[0].split("=", 1)[1]
    said, signed_at, signature = tampered.split(".")
    later = base64.urlsafe_b64encode(
        (int.from_bytes(base64.urlsafe_b64decode(signed_at + "==")) + 86400).to_bytes(4)
    )
    forged = f"{said}.{later.decode().rstrip('=')}.{signature}"  # a day more, same signature
    tocsin.http.cookies.clear()
    tocsin.http.cookies.set("tocsin_review", forged)
    again = await tocsin.http.get(page, follow_redirects=False)
    assert again.status_code == 303


@pytest.mark.parametrize(
    "cookie",
    [
        "².x",  # a digit to str.isdigit, not to int(): a 500 before
        "³.x",
        "1767225600.é" + "a" * 63,  # a non-ASCII signature: a 500 before
        "9" * 5000 + ".x",  # an expiry int() refuses: a 500 before
    ],
)
async def test_a_tampered_review_cookie_signs_out_never_a_500(tocsin: Harness, cookie: str) -> None:
    base = tocsin.base_url
    headers = {b"Cookie": f"tocsin_review={cookie}".encode("latin-1")}  # read back as sent
    page = await tocsin.http.get(f"{base}/review", headers=headers, follow_redirects=False)
    assert (page.status_code, page.headers.get("location")) == (303, "/review/login")
    api = await tocsin.http.get(f"{base}/api/reports", headers=headers)
    assert api.status_code == 401
    export = await tocsin.http.get(
        f"{base}/review/export.csv", headers=headers, follow_redirects=False
    )
    assert (export.status_code, export.headers.get("location")) == (303, "/review/login")
    login = await tocsin.http.get(f"{base}/review/login", headers=headers)
    assert login.status_code == 200
    assert 'name="token"' in login.text


async def test_the_review_page_refuses_an_abusive_period_with_a_400(tocsin: Harness) -> None:
    page = f"{tocsin.base_url}/review"
    login = await tocsin.http.post(f"{page}/login", data={"token": TOKEN}, follow_redirects=False)
    assert login.status_code == 303
    for period in ("999999999w", "0001-01-02..9999-12-30"):
        shown = await tocsin.http.get(page, params={"period": period})
        assert shown.status_code == 400
        assert "period:" in shown.text
    csv_export = await tocsin.http.get(f"{page}/export.csv", params={"period": "999999999w"})
    assert csv_export.status_code == 400
    assert csv_export.json()["field"] == "period"


async def test_review_csv_export_lists_the_filtered_alerts(tocsin: Harness) -> None:
    await alerts_with_one_acknowledged(tocsin)
    response = await tocsin.http.get(
        f"{tocsin.base_url}/review/export.csv",
        params={"period": "1d", "level": "1"},
        headers=bearer(),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["title"] for r in rows] == [EVIL]
    assert json.loads(rows[0]["timeline"])[0]["kind"] == "fired"


async def test_review_csv_export_neutralises_formulas(tocsin: Harness) -> None:
    title = "+cmd|' /C calc'!A0"
    await tocsin.webhook("generic", {"title": title, "level": 3, "fingerprint": "formula"})
    await tocsin.wait_for_messages(1)
    response = await tocsin.http.get(
        f"{tocsin.base_url}/review/export.csv", params={"period": "1d"}, headers=bearer()
    )
    assert response.status_code == 200
    (row,) = list(csv.DictReader(io.StringIO(response.text)))
    assert row["title"] == "'" + title
    assert row["level"] == "3"
    assert "\"'+cmd|' /C calc'!A0\"" in response.text


async def test_review_is_disabled_without_a_token(tmp_path: Path) -> None:
    async with database("sqlite", tmp_path) as url, running_tocsin(database_url=url) as tocsin:
        page = await tocsin.http.get(f"{tocsin.base_url}/review")
        assert page.status_code == 404
        assert "TOCSIN_REVIEW_TOKEN" in page.text
        api = await tocsin.http.get(f"{tocsin.base_url}/api/reports", headers=bearer())
        assert api.status_code == 404
        assert "TOCSIN_REVIEW_TOKEN" in api.json()["error"]

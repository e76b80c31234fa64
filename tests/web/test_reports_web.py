"""The web UI links the same reports as `houqin report`, for the people allowed to read them."""

from __future__ import annotations

from tests.web.conftest import Live, logged_in


def test_leadership_downloads_a_plan_runs_completion_report_as_pdf_and_xlsx(live: Live) -> None:
    run_id = live.world.run_id
    with logged_in(live, "wang") as client:
        board = client.get(f"/runs/{run_id}").text
        assert f"/runs/{run_id}/report.pdf" in board
        pdf = client.get(f"/runs/{run_id}/report.pdf")
        xlsx = client.get(f"/runs/{run_id}/report.xlsx")
        page = client.get(f"/runs/{run_id}/report.html").text
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert xlsx.content[:2] == b"PK"  # a zip: the xlsx container
    assert "计划完成情况报告" in page


def test_the_review_links_the_digest_and_the_assessment(live: Live) -> None:
    with logged_in(live, "wang") as client:
        review = client.get("/review").text
        digest = client.get("/review/digest.html")
        assessment = client.get("/review/assessment.html?period=2026Q4")
        bad = client.get("/review/assessment.html?period=someday")
    assert "/review/digest.pdf" in review and "period=2026Q4" in review
    assert digest.status_code == 200 and "逾期" in digest.text
    assert assessment.status_code == 200 and "2026Q4" in assessment.text
    assert bad.status_code == 400


def test_staff_cannot_download_reports(live: Live) -> None:
    with logged_in(live, "li") as client:
        assert client.get(f"/runs/{live.world.run_id}/report.pdf").status_code == 403
        assert client.get("/review/digest.pdf").status_code == 403
        assert client.get("/review/assessment.html?period=2026Q4").status_code == 403

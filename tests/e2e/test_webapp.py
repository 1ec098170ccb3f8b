"""The web app in a real browser against the real MLflow scoring server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Page
from webapp.catalogue import CatalogueStore

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def store(e2e_bundle: Path) -> CatalogueStore:
    return CatalogueStore.from_bundle(e2e_bundle)


def reviewed_movie(store: CatalogueStore) -> tuple[int, str]:
    """The most-reviewed movie with a plain title (so a few typed letters single it out)."""
    candidates = [
        (len(store.reviews(m)), m, t)
        for m, t, _, _ in store.index_rows()
        if store.reviews(m) and "<" not in t
    ]
    _, movie_id, title = max(candidates)
    return movie_id, title


def test_autocomplete_with_the_keyboard_leads_to_the_movie_page(
    page: Page, app_url: str, store: CatalogueStore, artifacts: Path
) -> None:
    movie_id, title = reviewed_movie(store)
    p = page.page
    p.goto(app_url + "/")
    box = p.get_by_role("combobox", name="Search for a movie")
    box.click()
    box.press_sequentially(title[:7].upper(), delay=40)  # part of the title, wrong case
    listbox = p.locator("#q-listbox")
    listbox.get_by_role("option").first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    p.screenshot(path=str(artifacts / "01-autocomplete.png"))
    options = listbox.get_by_role("option")
    for _ in range(options.count()):
        box.press("ArrowDown")
        active = p.locator("#" + box.get_attribute("aria-activedescendant"))
        assert active.get_attribute("aria-selected") == "true"
        if active.locator(".s-title").inner_text() == title:
            break
    else:
        pytest.fail(f"{title!r} was not among the suggestions for {title[:7].upper()!r}")
    box.press("Enter")
    p.wait_for_url(f"**/movie/{movie_id}")
    assert p.get_by_role("heading", level=1).inner_text().startswith(title)
    reviews = p.get_by_test_id("review")
    assert reviews.count() == min(len(store.reviews(movie_id)), 10)
    labels = p.get_by_test_id("review-label").all_inner_texts()
    assert labels and all(re.match(r"(Positive|Negative) · \d+%", text) for text in labels)
    summary = p.get_by_test_id("sentiment-summary").inner_text()
    assert re.search(r"\d+% positive", summary)
    similar = p.get_by_test_id("similar").locator(".card")
    assert similar.count() >= 3
    p.screenshot(path=str(artifacts / "02-movie-page.png"), full_page=True)
    # a similar movie is one click away
    similar.first.locator("a").click()
    p.get_by_test_id("movie-page").wait_for()
    assert page.errors == []


def test_a_suggestion_can_be_picked_with_the_mouse_and_escape_closes_the_list(
    page: Page, app_url: str, store: CatalogueStore
) -> None:
    movie_id, title = reviewed_movie(store)
    p = page.page
    p.goto(app_url + "/search?q=" + title.split()[-1])
    box = p.locator("#q-top")  # the header's search box on every other page
    box.fill(title.lower())
    option = p.locator("#q-top-listbox").get_by_role("option").first
    option.wait_for()
    box.press("Escape")
    assert p.locator("#q-top-listbox").is_hidden()
    box.press("ArrowDown")
    option.wait_for()
    option.click()
    p.wait_for_url(f"**/movie/{movie_id}")
    assert page.errors == []


def test_a_users_recommendations_genre_filter_and_the_roulette(
    page: Page, app_url: str, store: CatalogueStore, artifacts: Path
) -> None:
    user = store.user_ids[3]
    p = page.page
    p.goto(app_url + "/")
    p.get_by_label("Your user number").select_option(str(user))
    p.get_by_role("button", name="Show my picks").click()
    p.wait_for_url(f"**/user/{user}")
    cards = p.get_by_test_id("recommendations").locator(".card")
    assert cards.count() == 12
    assert p.locator(".reasons li").count() >= 12  # every pick says why
    p.get_by_label("Genre").select_option("Comedy")  # filters without a button
    p.wait_for_url(re.compile(r".*genre=Comedy.*"))
    genres = p.get_by_test_id("recommendations").locator(".genres").all_inner_texts()
    assert genres and all("Comedy" in g for g in genres)
    p.get_by_label("Genre").select_option("")
    p.wait_for_url(re.compile(rf".*/user/{user}(\?genre=)?$"))

    p.goto(app_url + f"/user/{user}?k=20")
    pool = set(p.get_by_test_id("recommendations").locator(".card").evaluate_all(
        "cards => cards.map(c => c.dataset.title)"
    ))  # fmt: skip
    p.get_by_test_id("spin-button").click()
    reel = p.locator(".reel")
    reel.wait_for(state="visible")  # the reel spins while the draw is made
    result = p.get_by_test_id("spin-result")
    result.wait_for(state="visible")
    drawn = result.inner_text()
    assert any(drawn.startswith(title) for title in pool), drawn
    assert reel.is_hidden()
    p.screenshot(path=str(artifacts / "03-roulette.png"))
    p.get_by_role("button", name="Spin again").click()
    result.wait_for(state="visible")
    assert any(result.inner_text().startswith(title) for title in pool)
    result.click()
    p.get_by_test_id("movie-page").wait_for()
    assert page.errors == []


def test_a_newcomer_rates_a_few_movies_and_gets_picks(
    page: Page, app_url: str, artifacts: Path
) -> None:
    p = page.page
    p.goto(app_url + "/")
    p.get_by_role("link", name="Rate a few movies").click()
    groups = p.locator("fieldset")
    rated = []
    for i in range(3):
        group = groups.nth(i)
        rated.append(group.locator("legend").inner_text())
        group.get_by_label("5 stars").check()
    p.screenshot(path=str(artifacts / "04-newcomer.png"))
    p.get_by_test_id("newcomer-submit").click()
    p.wait_for_url("**/newcomer/recommendations")
    titles = (
        p.get_by_test_id("recommendations")
        .locator(".card")
        .evaluate_all("cards => cards.map(c => c.dataset.title)")
    )
    assert len(titles) == 12
    assert not {re.sub(r" \(\d{4}\)$", "", t) for t in rated} & set(titles)
    assert "From your ratings" in p.locator(".page-head").inner_text()
    p.get_by_test_id("spin-button").click()
    p.get_by_test_id("spin-result").wait_for(state="visible")
    assert page.errors == []


def test_a_picked_user_opens_rates_and_accepts_a_spin_and_it_is_all_logged(
    page: Page, app_url: str, store: CatalogueStore, event_log: Path, artifacts: Path
) -> None:
    user = store.user_ids[5]
    p = page.page
    p.goto(app_url + "/")
    p.get_by_label("Your user number").select_option(str(user))
    p.get_by_role("button", name="Show my picks").click()
    p.wait_for_url(f"**/user/{user}")
    first = p.get_by_test_id("recommendations").locator(".card").first
    opened = int(first.get_attribute("data-movie-id"))
    first.locator("a").click()  # a tracked link: logged, then redirected to the plain URL
    p.wait_for_url(f"**/movie/{opened}")
    form = p.get_by_test_id("rate-form")
    assert f"as user {user}" in form.inner_text()
    form.get_by_label("Rate this movie").select_option("4.5")
    p.get_by_test_id("rate-submit").click()
    p.get_by_test_id("feedback-saved").wait_for()
    assert f"user {user} rated" in p.get_by_test_id("feedback-saved").inner_text()
    p.screenshot(path=str(artifacts / "07-rated.png"))
    p.set_viewport_size({"width": 390, "height": 844})  # the form fits a phone too
    assert p.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    p.set_viewport_size({"width": 1280, "height": 860})

    p.goto(app_url + f"/user/{user}")
    p.get_by_test_id("spin-button").click()
    p.get_by_test_id("spin-result").wait_for(state="visible")
    accept = p.get_by_role("button", name="I'll watch this")
    accept.wait_for(state="visible")
    drawn = p.get_by_test_id("spin-result").inner_text()
    p.screenshot(path=str(artifacts / "08-accept-spin.png"))
    accept.click()
    p.wait_for_url(re.compile(r".*/movie/\d+$"))
    accepted = int(p.url.rsplit("/", 1)[1])
    assert drawn.startswith(p.get_by_role("heading", level=1).inner_text().split(" (")[0])
    assert "Enjoy" in p.get_by_test_id("feedback-saved").inner_text()
    assert page.errors == []

    from movie_roulette.monitoring.eventlog import EventLog

    logged = EventLog(event_log).read()
    assert logged.clean
    mine = [(e.type, e.data["movie_id"]) for e in logged.events if e.data["user_id"] == user]
    assert mine == [("click", opened), ("rating", opened), ("spin_accepted", accepted)]
    rating = next(e for e in logged.events if e.type == "rating" and e.data["user_id"] == user)
    assert rating.data["rating"] == 4.5


def test_server_down_shows_a_clear_message_and_search_still_works(
    page: Page, down_app_url: str, store: CatalogueStore, artifacts: Path
) -> None:
    movie_id, title = reviewed_movie(store)
    p = page.page
    p.goto(down_app_url + f"/user/{store.user_ids[0]}")
    banner = p.get_by_test_id("server-down")
    assert "not reachable" in banner.inner_text()
    assert p.get_by_test_id("spin-button").count() == 0
    p.screenshot(path=str(artifacts / "05-server-down.png"))
    box = p.locator("#q-top")
    box.fill(title[:6])
    p.locator("#q-top-listbox").get_by_role("option").first.wait_for()
    p.goto(down_app_url + f"/movie/{movie_id}")
    assert p.get_by_test_id("review").count() > 0
    assert "recommendation service" in p.get_by_test_id("server-down").inner_text()


def test_the_layout_fits_a_phone(
    browser: Any, app_url: str, store: CatalogueStore, artifacts: Path
) -> None:
    phone = Page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        movie_id, _ = reviewed_movie(store)
        for path in ("/", f"/movie/{movie_id}", f"/user/{store.user_ids[0]}", "/newcomer"):
            phone.page.goto(app_url + path)
            overflow = phone.page.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
        phone.page.goto(app_url + f"/movie/{movie_id}")
        phone.page.screenshot(path=str(artifacts / "06-phone-movie.png"), full_page=True)
        assert phone.errors == []
    finally:
        phone.context.close()

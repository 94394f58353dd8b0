"""The pieces of logging with no signal the server provides (issue 11 part 3; the walk is in
tests/browser/test_offline_logging.py): the service worker from the site's root, and the two logging forms marked for
it. Editing an existing record is not offered offline (a saved record's changes need the server's version check)."""
from retail.access import Role
from tests.conftest import login_as


def test_the_service_worker_is_served_from_the_root_uncached_to_anyone(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    assert '"/purchases/new", "/visits/new"' in body and "https://" not in body  # no CDN: all served here


def test_the_attempt_and_visit_forms_keep_records_offline_for_their_user(client, users):
    officer = users[Role.OFFICER]
    login_as(client, officer)
    for url in ("/purchases/new", "/visits/new"):
        page = client.get(url).get_data(as_text=True)
        assert f'data-offline-user="{officer.id}"' in page, url
        assert "/static/offline.js" in page and "data-offline-status" in page, url

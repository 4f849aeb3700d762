"""Failed sign-ins are slowed down per client address (HTTP 429 with Retry-After), with
counters in the real Redis, the address taken from X-Forwarded-For only behind a listed
proxy, and the ``hera`` client waiting out a Retry-After against a real live server."""
from __future__ import annotations

import base64
import logging
import re
import time
import urllib.error
import urllib.request

import pytest

from accounts import users
from conftest import free_port
from hera.errors import HeraError
from hera.transport import Transport, retry_after
from vo_service import create_app

FAILURES = 3


@pytest.fixture
def limited(config):
    """Settings of a service that allows FAILURES wrong tokens per address per minute."""
    return {**config, "HERA_SIGNIN_MAX_FAILURES": FAILURES, "HERA_SIGNIN_FAILURE_WINDOW": 60}


def make_app(settings):
    from vo_service.app import init_database

    app = create_app(settings)
    init_database(app)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def service(limited):
    app = make_app(limited)
    yield app
    app.extensions["hera"].engine.dispose()


@pytest.fixture
def alice(service):
    return users.add_user(service.extensions["hera"].engine, "alice")


def credentials(scheme: str, token: str) -> dict:
    if scheme == "basic":
        return {"Authorization": "Basic " + base64.b64encode(f"alice:{token}".encode()).decode()}
    return {"Authorization": f"Bearer {token}"}


def fail(client, n, scheme="bearer", **kwargs):
    for _ in range(n):
        response = client.get("/tap/availability", headers=credentials(scheme, "wrong-token"), **kwargs)
        assert response.status_code == 401, response.data


def assert_slowed_down(response):
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60
    assert b"too many failed sign-ins" in response.data


@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_wrong_tokens_from_one_address_get_429_with_retry_after(service, alice, scheme):
    client = service.test_client()
    fail(client, FAILURES, scheme)
    assert_slowed_down(client.get("/tap/availability", headers=credentials(scheme, "wrong-token")))
    # refused before the token is checked: a right guess looks like a wrong one meanwhile
    assert_slowed_down(client.get("/tap/availability", headers=credentials(scheme, alice)))
    # the same answer on an interface with error documents of its own
    assert_slowed_down(client.get("/workspace/", headers=credentials(scheme, alice)))
    # requests without credentials go on, and other addresses are not affected
    assert client.get("/tap/availability").status_code == 200
    other = service.test_client()
    response = other.get("/tap/availability", headers=credentials(scheme, alice),
                         environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 200


def sign_in_form(client, token):
    page = client.get("/ui/signin")
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    return client.post("/ui/signin", data={"csrf_token": csrf, "token": token})


def test_the_sign_in_page_is_slowed_down_too_and_says_why(service, alice):
    browser = service.test_client()
    for _ in range(FAILURES):
        assert sign_in_form(browser, "wrong-token").status_code == 401
    response = sign_in_form(browser, alice)
    assert_slowed_down(response)
    assert b'id="signin-error"' in response.data and b"try again in" in response.data
    assert b"Signed in as" not in browser.get("/").data


def test_failures_on_the_form_and_on_the_interfaces_add_up(service, alice):
    client = service.test_client()
    fail(client, FAILURES - 1)
    assert sign_in_form(client, "wrong-token").status_code == 401
    assert_slowed_down(client.get("/tap/availability", headers=credentials("bearer", alice)))


def test_a_successful_sign_in_resets_no_counter(service, alice):
    client = service.test_client()
    fail(client, FAILURES - 1)
    assert client.get("/tap/availability", headers=credentials("bearer", alice)).status_code == 200
    fail(client, 1)
    assert_slowed_down(client.get("/tap/availability", headers=credentials("bearer", alice)))


def test_the_block_ends_with_its_window(limited):
    app = make_app({**limited, "HERA_SIGNIN_FAILURE_WINDOW": 1})
    token = users.add_user(app.extensions["hera"].engine, "alice")
    client = app.test_client()
    fail(client, FAILURES)
    response = client.get("/tap/availability", headers=credentials("bearer", token))
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    time.sleep(1.2)
    assert client.get("/tap/availability", headers=credentials("bearer", token)).status_code == 200


def test_web_hosts_sharing_a_redis_share_the_counts(limited, service, alice):
    second_host = make_app(limited)  # another process of the same service: same Redis, same database
    fail(service.test_client(), FAILURES)
    assert_slowed_down(second_host.test_client().get("/tap/availability", headers=credentials("bearer", alice)))


def test_ipv6_clients_are_counted_by_their_64_network(service, alice):
    client = service.test_client()
    for host in range(1, FAILURES + 1):
        fail(client, 1, environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{host}"})
    assert_slowed_down(client.get("/tap/availability", headers=credentials("bearer", alice),
                                  environ_base={"REMOTE_ADDR": "2001:db8:1:2:ffff::9"}))
    assert client.get("/tap/availability", headers=credentials("bearer", alice),
                      environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"}).status_code == 200


def test_x_forwarded_for_is_ignored_without_a_listed_proxy(service, alice):
    client = service.test_client()
    for n in range(FAILURES):  # each guess claims another address
        fail(client, 1, environ_base={"HTTP_X_FORWARDED_FOR": f"198.51.100.{n}"})
    assert_slowed_down(client.get("/tap/availability", headers={
        **credentials("bearer", alice), "X-Forwarded-For": "198.51.100.200"}))


def test_x_forwarded_for_is_believed_from_a_listed_proxy_only(limited):
    app = make_app({**limited, "HERA_TRUSTED_PROXIES": ["10.9.0.0/16"], "HERA_PROXY_HOPS": 1})
    token = users.add_user(app.extensions["hera"].engine, "alice")
    client = app.test_client()
    via_proxy = {"REMOTE_ADDR": "10.9.0.5"}

    def ask(forwarded_for, environ=via_proxy):
        return client.get("/tap/availability", environ_base=environ, headers={
            **credentials("bearer", token), "X-Forwarded-For": forwarded_for})

    for _ in range(FAILURES):  # the client prepends a spoofed address; the proxy appends the real one
        response = client.get("/tap/availability", environ_base=via_proxy, headers={
            **credentials("bearer", "wrong-token"), "X-Forwarded-For": "6.6.6.6, 203.0.113.5"})
        assert response.status_code == 401
    assert_slowed_down(ask("203.0.113.5"))
    # another client behind the same proxy, and the proxy's own address, are not blocked
    assert ask("203.0.113.6").status_code == 200
    assert ask("6.6.6.6").status_code == 200
    # a host that is not a listed proxy cannot claim the blocked client's address ... nor escape
    assert ask("203.0.113.6", environ={"REMOTE_ADDR": "203.0.113.5"}).status_code == 429
    assert ask("203.0.113.5", environ={"REMOTE_ADDR": "192.0.2.44"}).status_code == 200


def test_a_bad_proxy_setting_is_refused_at_start(limited):
    with pytest.raises(ValueError, match="HERA_TRUSTED_PROXIES: 'proxy.example' is not an IP"):
        create_app({**limited, "HERA_TRUSTED_PROXIES": ["proxy.example"]})


def test_without_redis_sign_ins_are_not_slowed_but_never_fail(limited, unused_port):
    app = make_app({**limited, "HERA_REDIS_URL": f"redis://127.0.0.1:{unused_port}/0"})
    token = users.add_user(app.extensions["hera"].engine, "alice")
    client = app.test_client()
    fail(client, FAILURES + 2)
    assert client.get("/tap/availability", headers=credentials("bearer", token)).status_code == 200


@pytest.fixture
def unused_port():
    return free_port()


# -- the client ------------------------------------------------------------------------------

def wrong_token_request(url):
    request = urllib.request.Request(url + "/tap/availability", headers={"Authorization": "Bearer wrong"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request)
    return info.value.code


def test_the_client_retries_after_retry_after_on_a_live_server(app, live_server, caplog):
    app.config.update(HERA_SIGNIN_MAX_FAILURES=2, HERA_SIGNIN_FAILURE_WINDOW=2)
    token = users.add_user(app.extensions["hera"].engine, "alice")
    assert [wrong_token_request(live_server) for _ in range(3)] == [401, 401, 429]
    with caplog.at_level(logging.WARNING, logger="hera"):
        info = Transport(live_server, token, retries=3).get_json("/workspace/?format=json")
    assert info["entries"] == [] and "quota" in info  # alice's own (empty) workspace
    assert any("429" in r.getMessage() and "retry 1/3" in r.getMessage() for r in caplog.records)


def test_the_client_reports_a_long_block_at_once_without_retrying(app, live_server):
    app.config.update(HERA_SIGNIN_MAX_FAILURES=1, HERA_SIGNIN_FAILURE_WINDOW=600)
    token = users.add_user(app.extensions["hera"].engine, "alice")
    assert wrong_token_request(live_server) == 401
    with pytest.raises(HeraError, match=r": 429 .*too many failed sign-ins .* try again in \d+ s") as info:
        Transport(live_server, token, retries=3).get_json("/workspace/?format=json")
    assert info.value.status == 429


def test_retry_after_is_read_as_seconds_or_an_http_date():
    from email.utils import format_datetime
    from datetime import datetime, timedelta, timezone

    assert retry_after("7") == 7.0
    later = retry_after(format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True))
    assert 25 <= later <= 30
    assert retry_after(format_datetime(datetime(2001, 1, 1, tzinfo=timezone.utc), usegmt=True)) == 0.0
    assert retry_after("soon") is None and retry_after(None) is None
